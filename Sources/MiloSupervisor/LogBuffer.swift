/// A bounded byte buffer for one log stream that drops the oldest whole lines when it is full
/// and remembers exactly how much it dropped.
///
/// Bytes are appended as the application writes them and consumed as the log reader accepts
/// them. The buffer never holds more than `capacity` bytes (plus one pending drop marker).
public struct LogBuffer: Sendable {
  /// The most bytes the buffer holds.
  public let capacity: Int
  private var storage: [UInt8] = []
  private var head = 0
  /// Newline-terminated lines dropped since the last marker was taken.
  public private(set) var pendingDroppedLines = 0
  /// Bytes dropped since the last marker was taken.
  public private(set) var pendingDroppedBytes = 0
  /// Lines and bytes dropped over the buffer's life.
  public private(set) var totalDroppedLines = 0
  public private(set) var totalDroppedBytes = 0

  public init(capacity: Int) {
    self.capacity = max(capacity, 1)
  }

  /// Bytes waiting to be written.
  public var count: Int { storage.count - head }
  public var isEmpty: Bool { count == 0 }

  /// Appends bytes, dropping the oldest whole lines if the buffer would exceed its capacity.
  public mutating func append(_ bytes: UnsafeRawBufferPointer) {
    storage.append(contentsOf: bytes)
    if count > capacity { dropOldest() }
  }

  /// Appends bytes (convenience for tests and small writes).
  public mutating func append(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { append($0) }
  }

  /// Calls `body` with the pending bytes; `body` returns how many it consumed.
  public mutating func consume(_ body: (UnsafeRawBufferPointer) -> Int) {
    let used = storage.withUnsafeBytes { raw -> Int in
      let slice = UnsafeRawBufferPointer(rebasing: raw[head...])
      return body(slice)
    }
    head += min(max(used, 0), count)
    compact()
  }

  /// The number of leading bytes that end at the last newline (0 when there is none).
  public func completeLinesLength() -> Int {
    var index = storage.count
    while index > head {
      index -= 1
      if storage[index] == 0x0A { return index + 1 - head }
    }
    return 0
  }

  /// The number of leading bytes that can be written without ending inside a multi-byte UTF-8
  /// sequence: a trailing incomplete sequence of up to 3 bytes is held back.
  public func utf8SafeLength() -> Int {
    let total = count
    var back = 0
    while back < min(3, total) {
      let byte = storage[storage.count - 1 - back]
      if byte & 0xC0 != 0x80 {
        // Found the lead byte (or ASCII): is its sequence complete?
        let needed: Int
        if byte & 0x80 == 0 { needed = 1 } else if byte & 0xE0 == 0xC0 { needed = 2 } else if byte & 0xF0 == 0xE0 {
          needed = 3
        } else if byte & 0xF8 == 0xF0 { needed = 4 } else { needed = 1 }
        return back + 1 >= needed ? total : total - back - 1
      }
      back += 1
    }
    return total
  }

  /// Takes the pending drop counts as a marker line, or nil when nothing was dropped.
  public mutating func takeDropMarker(stream: String, atLineStart: Bool) -> [UInt8]? {
    guard pendingDroppedBytes > 0 else { return nil }
    let marker = Self.dropMarker(
      lines: pendingDroppedLines, bytes: pendingDroppedBytes, stream: stream, atLineStart: atLineStart)
    pendingDroppedLines = 0
    pendingDroppedBytes = 0
    return marker
  }

  /// The marker line for `lines` lines and `bytes` bytes dropped from `stream`, starting with a
  /// newline when the bytes already written end inside a line.
  static func dropMarker(lines: Int, bytes: Int, stream: String, atLineStart: Bool) -> [UInt8] {
    let text =
      (atLineStart ? "" : "\n")
      + "[milo] dropped \(lines) lines (\(bytes) bytes) of \(stream): "
      + "the log reader was too slow or absent\n"
    return Array(text.utf8)
  }

  private mutating func dropOldest() {
    let excess = count - capacity
    // Drop whole lines from the front until we are within capacity.
    var cut = head
    var lines = 0
    while cut - head < excess {
      if let newline = storage[cut...].firstIndex(of: 0x0A) {
        cut = newline + 1
        lines += 1
      } else {
        // One line longer than the buffer: drop just enough of its oldest bytes.
        cut = head + excess
        break
      }
    }
    let dropped = cut - head
    pendingDroppedBytes += dropped
    pendingDroppedLines += lines
    totalDroppedBytes += dropped
    totalDroppedLines += lines
    head = cut
    compact()
  }

  private mutating func compact() {
    if head == storage.count {
      storage.removeAll(keepingCapacity: storage.capacity <= 1 << 20)
      head = 0
    } else if head >= 1 << 16 && head * 2 >= storage.count {
      storage.removeSubrange(0..<head)
      head = 0
    }
  }
}
