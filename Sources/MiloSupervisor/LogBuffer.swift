#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// A bounded byte buffer for one log stream that drops the oldest whole lines when it is full
/// and remembers exactly how much it dropped.
///
/// Bytes are appended as the application writes them and consumed as the log reader accepts
/// them. The buffer never holds more than `capacity` bytes (plus one pending drop marker).
///
/// Every operation costs at most the bytes it appends, consumes or drops: the position of the
/// last newline is kept up to date, so neither `completeLinesLength()` (called on every flush)
/// nor an overflow rescans what is already buffered. (Rescanning made a long line without
/// newlines, buffered while the reader lagged, cost O(buffer) per flush: the relay fell behind
/// and dropped.)
public struct LogBuffer: Sendable {
  /// The most bytes the buffer holds.
  public let capacity: Int
  private var storage: [UInt8] = []
  private var head = 0
  /// The index in `storage` of the last newline, when there is one at or after `head`.
  private var lastNewline: Int?
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
    let start = storage.count
    storage.append(contentsOf: bytes)
    // The last newline of the new bytes, scanning back only as far as it.
    var index = bytes.count
    while index > 0 {
      index -= 1
      if bytes[index] == 0x0A {
        lastNewline = start + index
        break
      }
    }
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
    guard let lastNewline, lastNewline >= head else { return 0 }
    return lastNewline + 1 - head
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
      if let newline = nextNewline(from: cut) {
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

  /// The index of the first newline at or after `index` (memchr, and none past the last one).
  private func nextNewline(from index: Int) -> Int? {
    guard let lastNewline, lastNewline >= index else { return nil }
    return storage.withUnsafeBytes { raw -> Int? in
      guard let base = raw.baseAddress, let hit = memchr(base + index, 0x0A, lastNewline + 1 - index) else {
        return nil
      }
      return base.distance(to: UnsafeRawPointer(hit))
    }
  }

  private mutating func compact() {
    if let newline = lastNewline, newline < head { lastNewline = nil }
    if head == storage.count {
      storage.removeAll(keepingCapacity: storage.capacity <= 1 << 20)
      head = 0
      lastNewline = nil
    } else if head >= 1 << 16 && head * 2 >= storage.count {
      storage.removeSubrange(0..<head)
      lastNewline = lastNewline.map { $0 - head }
      head = 0
    }
  }
}
