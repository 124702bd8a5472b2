/// The drop marker a relay owes its reader: the one place the counts it reports are kept once
/// taken from the buffer, its line, and how much of the line was written.
struct DropMarker {
  /// The marker line being written (empty: none due).
  private(set) var line: [UInt8] = []
  /// How much of `line` the reader took.
  private(set) var written = 0
  private var lines = 0
  private var bytes = 0

  /// Takes the buffer's pending drops into the marker, unless its writing has started. A
  /// marker not yet started absorbs the drops since it was made, so one marker line reports
  /// them all with exact counts.
  mutating func absorb(from buffer: inout LogBuffer, stream: String, atLineStart: Bool) {
    guard buffer.pendingDroppedBytes > 0 && written == 0 else { return }
    lines += buffer.pendingDroppedLines
    bytes += buffer.pendingDroppedBytes
    _ = buffer.takeDropMarker(stream: stream, atLineStart: atLineStart)
    line = LogBuffer.dropMarker(lines: lines, bytes: bytes, stream: stream, atLineStart: atLineStart)
  }

  /// Whether part of the line is still to be written.
  var isDue: Bool { written < line.count }

  /// Records that the reader took `count` more bytes; returns true when the line is complete
  /// (the marker is then reset).
  mutating func advance(by count: Int) -> Bool {
    written += count
    guard written == line.count else { return false }
    line = []
    written = 0
    lines = 0
    bytes = 0
    return true
  }
}
