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
/// The bytes live in a ring of exactly `capacity` bytes, allocated on first use and never
/// resized or freed before the buffer, so a backlog costs no reallocation, copying or fresh
/// page faults. Whenever the buffer empties (or only a small remainder such as a held partial
/// line is left) it starts over at the ring's beginning, so steady traffic keeps reusing the
/// same few cache-warm pages and the ring's far pages are touched only by real backlogs.
///
/// Every operation costs at most the bytes it appends, consumes or drops: the position of the
/// last newline is kept up to date, so neither `completeLinesLength()` (called on every flush)
/// nor an overflow rescans what is already buffered. (Rescanning made a long line without
/// newlines, buffered while the reader lagged, cost O(buffer) per flush: the relay fell behind
/// and dropped.)
public struct LogBuffer: Sendable {
  /// The most bytes the buffer holds.
  public let capacity: Int
  private var ring: RingStorage?
  /// Positions of the first pending byte and one past the last, counted in bytes appended since
  /// the buffer last restarted at the ring's beginning; position `p` is at ring offset
  /// `p % capacity`.
  private var start = 0
  private var end = 0
  /// The position of the last newline, when there is one at or after `start`.
  private var lastNewline: Int?
  /// Newline-terminated lines dropped since the last marker was taken.
  public private(set) var pendingDroppedLines = 0
  /// Bytes dropped since the last marker was taken.
  public private(set) var pendingDroppedBytes = 0
  /// Lines and bytes dropped over the buffer's life.
  public private(set) var totalDroppedLines = 0
  public private(set) var totalDroppedBytes = 0

  /// A remainder this small is moved to the ring's beginning after a consume.
  static let relocationLimit = 4096

  public init(capacity: Int) {
    self.capacity = max(capacity, 1)
  }

  /// Bytes waiting to be written.
  public var count: Int { end - start }
  public var isEmpty: Bool { end == start }

  /// The most bytes one `fill` can add: the free space up to the end of the ring.
  public var contiguousFreeSpace: Int {
    isEmpty ? capacity : min(capacity - count, capacity - end % capacity)
  }

  /// Appends bytes, dropping the oldest whole lines if the buffer would exceed its capacity.
  public mutating func append(_ bytes: UnsafeRawBufferPointer) {
    guard !bytes.isEmpty else { return }
    var kept = bytes
    let excess = count + bytes.count - capacity
    if excess > 0 {
      kept = UnsafeRawBufferPointer(rebasing: bytes[dropOldest(excess: excess, incoming: bytes)...])
    }
    guard let source = kept.baseAddress, !kept.isEmpty else { return }
    restartIfEmpty()
    let ring = writableRing()
    let (first, second) = ringRanges(from: end, count: kept.count)
    (ring.base + first.lowerBound).copyMemory(from: source, byteCount: first.count)
    ring.base.copyMemory(from: source + first.count, byteCount: second.count)
    noteLastNewline(in: kept, at: end)
    end += kept.count
  }

  /// Appends bytes (convenience for tests and small writes).
  public mutating func append(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { append($0) }
  }

  /// Lets `body` write new bytes straight into the buffer (with `read(2)`, saving a copy).
  ///
  /// `body` gets up to `maximum` bytes of contiguous free space (`contiguousFreeSpace`) and
  /// returns how many it wrote; those are appended. Nothing is ever dropped. Returns `body`'s
  /// result (a negative one, an error, adds nothing), or 0 without calling it when there is no
  /// room.
  public mutating func fill(maximum: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int) -> Int {
    restartIfEmpty()
    let room = min(maximum, contiguousFreeSpace)
    guard room > 0 else { return 0 }
    let ring = writableRing()
    let target = ring.base + end % capacity
    let filled = body(UnsafeMutableRawBufferPointer(start: target, count: room))
    guard filled > 0 else { return filled }
    let added = min(filled, room)
    noteLastNewline(in: UnsafeRawBufferPointer(start: target, count: added), at: end)
    end += added
    return added
  }

  /// Calls `body` with all pending bytes (contiguous); `body` returns how many it consumed.
  public mutating func consume(_ body: (UnsafeRawBufferPointer) -> Int) {
    linearize()
    consumeContiguous(upTo: count, body)
  }

  /// Calls `body` with the oldest pending bytes that are contiguous in memory, at most `limit`
  /// of them; `body` returns how many it consumed. When the pending bytes wrap around the end
  /// of the ring, a second call gets the rest.
  public mutating func consumeContiguous(upTo limit: Int, _ body: (UnsafeRawBufferPointer) -> Int) {
    let length = min(max(limit, 0), count)
    let offered: UnsafeRawBufferPointer
    if let ring, length > 0 {
      let first = ringRanges(from: start, count: length).0
      offered = UnsafeRawBufferPointer(start: ring.base + first.lowerBound, count: first.count)
    } else {
      offered = UnsafeRawBufferPointer(start: nil, count: 0)
    }
    let used = body(offered)
    start += min(max(used, 0), offered.count)
    settle()
  }

  /// The number of leading bytes that end at the last newline (0 when there is none).
  public func completeLinesLength() -> Int {
    guard let lastNewline, lastNewline >= start else { return 0 }
    return lastNewline + 1 - start
  }

  /// The number of leading bytes that can be written without ending inside a multi-byte UTF-8
  /// sequence: a trailing incomplete sequence of up to 3 bytes is held back.
  public func utf8SafeLength() -> Int {
    let total = count
    var back = 0
    while back < min(3, total) {
      let byte = byte(at: end - 1 - back)
      if byte & 0xC0 != 0x80 {
        // Found the lead byte (or ASCII): is its sequence complete?
        let needed: Int
        if byte & 0x80 == 0 {
          needed = 1
        } else if byte & 0xE0 == 0xC0 {
          needed = 2
        } else if byte & 0xF0 == 0xE0 {
          needed = 3
        } else if byte & 0xF8 == 0xF0 {
          needed = 4
        } else {
          needed = 1
        }
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

  /// Drops whole lines from the front of the buffered bytes followed by `incoming` (as if those
  /// were appended first) until at least `excess` bytes are gone, or just `excess` bytes when
  /// one line is longer than that. Returns how many leading bytes of `incoming` were dropped.
  private mutating func dropOldest(excess: Int, incoming: UnsafeRawBufferPointer) -> Int {
    var cut = start
    var lines = 0
    while cut - start < excess {
      if let newline = nextNewline(from: cut, incoming: incoming) {
        cut = newline + 1
        lines += 1
      } else {
        // One line longer than the buffer: drop just enough of its oldest bytes.
        cut = start + excess
        break
      }
    }
    let dropped = cut - start
    pendingDroppedBytes += dropped
    pendingDroppedLines += lines
    totalDroppedBytes += dropped
    totalDroppedLines += lines
    let skipped = max(cut - end, 0)
    start = min(cut, end)
    settle()
    return skipped
  }

  /// The position of the first newline at or after `position` in the buffered bytes followed
  /// by `incoming` (which would start at `end`).
  private func nextNewline(from position: Int, incoming: UnsafeRawBufferPointer) -> Int? {
    if position < end, let found = bufferedNewline(from: position) { return found }
    let offset = max(position - end, 0)
    guard let base = incoming.baseAddress, offset < incoming.count,
      let hit = memchr(base + offset, 0x0A, incoming.count - offset)
    else { return nil }
    return end + base.distance(to: UnsafeRawPointer(hit))
  }

  /// The first buffered newline at or after `position` (memchr, and none past the last one).
  private func bufferedNewline(from position: Int) -> Int? {
    guard let ring, let lastNewline, lastNewline >= position else { return nil }
    let (first, second) = ringRanges(from: position, count: lastNewline + 1 - position)
    if let hit = memchr(ring.base + first.lowerBound, 0x0A, first.count) {
      return position + (ring.base + first.lowerBound).distance(to: hit)
    }
    if let hit = memchr(ring.base, 0x0A, second.count) {
      return position + first.count + ring.base.distance(to: hit)
    }
    return nil
  }

  /// Records the last newline of `bytes`, which are (or will be) at `position`, scanning back
  /// only as far as it.
  private mutating func noteLastNewline(in bytes: UnsafeRawBufferPointer, at position: Int) {
    var index = bytes.count
    while index > 0 {
      index -= 1
      if bytes[index] == 0x0A {
        lastNewline = position + index
        return
      }
    }
  }

  /// The ring offsets of `count` (at most `capacity`) bytes from `position`: up to the end of
  /// the ring, then from its beginning (empty unless they wrap).
  private func ringRanges(from position: Int, count: Int) -> (Range<Int>, Range<Int>) {
    let offset = position % capacity
    let first = min(count, capacity - offset)
    return (offset..<offset + first, 0..<count - first)
  }

  private func byte(at position: Int) -> UInt8 {
    ring?.base.load(fromByteOffset: position % capacity, as: UInt8.self) ?? 0
  }

  /// The ring, allocated now if needed and copied first if another buffer value shares it.
  private mutating func writableRing() -> RingStorage {
    if isKnownUniquelyReferenced(&ring), let ring { return ring }
    let fresh = RingStorage(capacity: capacity)
    if let old = ring {
      let (first, second) = ringRanges(from: start, count: count)
      for range in [first, second] where !range.isEmpty {
        (fresh.base + range.lowerBound).copyMemory(from: old.base + range.lowerBound, byteCount: range.count)
      }
    }
    ring = fresh
    return fresh
  }

  private mutating func restartIfEmpty() {
    guard isEmpty else { return }
    start = 0
    end = 0
    lastNewline = nil
  }

  /// After bytes left the front: forgets a consumed newline, restarts an empty buffer at the
  /// ring's beginning and moves a small unwrapped remainder there.
  private mutating func settle() {
    if let newline = lastNewline, newline < start { lastNewline = nil }
    if isEmpty {
      restartIfEmpty()
      return
    }
    let offset = start % capacity
    guard offset > 0, count <= Self.relocationLimit, offset + count <= capacity else { return }
    let ring = writableRing()
    memmove(ring.base, ring.base + offset, count)
    moveToRingStart()
  }

  /// Makes the pending bytes contiguous (at the ring's beginning) when they wrap around.
  private mutating func linearize() {
    let offset = start % capacity
    guard offset + count > capacity else { return }
    let ring = writableRing()
    let (first, second) = ringRanges(from: start, count: count)
    let copy = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 16)
    defer { copy.deallocate() }
    copy.copyMemory(from: ring.base + first.lowerBound, byteCount: first.count)
    (copy + first.count).copyMemory(from: ring.base, byteCount: second.count)
    ring.base.copyMemory(from: copy, byteCount: count)
    moveToRingStart()
  }

  /// Renumbers positions after the pending bytes were moved to the ring's beginning.
  private mutating func moveToRingStart() {
    lastNewline = lastNewline.map { $0 - start }
    end -= start
    start = 0
  }
}
