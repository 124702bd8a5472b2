/// The last bytes a relay delivered to its log reader, oldest first, in a ring of fixed size.
///
/// Nomad's logmon holds what it read in a write buffer (up to 64 KiB or 100 ms) before its
/// files get it; a logmon killed with SIGKILL loses that. The history lets the relay find the
/// bytes that never reached the files and send them again (see `ReaderRecovery`). Its ring is
/// not initialised, so it costs memory only as far as output has filled it.
public struct DeliveredHistory: Sendable {
  public let capacity: Int
  private var ring: RingStorage?
  /// Bytes recorded over the history's life, less those taken back.
  private var total = 0
  /// How many of the last delivered bytes are kept.
  public private(set) var count = 0
  /// True while the history holds everything delivered since the start (nothing evicted).
  public private(set) var isComplete = true

  public init(capacity: Int) {
    self.capacity = max(capacity, 0)
  }

  /// Records delivered bytes.
  public mutating func record(_ bytes: UnsafeRawBufferPointer) {
    guard capacity > 0, bytes.count > 0 else { return }
    let kept = UnsafeRawBufferPointer(rebasing: bytes.suffix(capacity))
    guard let source = kept.baseAddress else { return }
    let ring = writableRing()
    total += bytes.count - kept.count
    var offset = total % capacity
    var index = 0
    while index < kept.count {
      let run = min(kept.count - index, capacity - offset)
      (ring.base + offset).copyMemory(from: source + index, byteCount: run)
      index += run
      offset = (offset + run) % capacity
    }
    total += kept.count
    count = min(count + bytes.count, capacity)
    if count < total { isComplete = false }
  }

  /// The kept bytes, oldest first.
  public var bytes: [UInt8] { last(count) }

  /// The last `n` kept bytes (at most `count`), oldest first.
  public func last(_ n: Int) -> [UInt8] {
    let n = min(max(n, 0), count)
    guard n > 0, let ring else { return [] }
    let start = (total - n) % capacity
    let first = min(n, capacity - start)
    return Array(UnsafeRawBufferPointer(start: ring.base + start, count: first))
      + Array(UnsafeRawBufferPointer(start: ring.base, count: n - first))
  }

  /// Forgets the last `n` bytes (they were not delivered after all, or will be sent again).
  public mutating func dropLast(_ n: Int) {
    let dropped = min(max(n, 0), count)
    total -= dropped
    count -= dropped
  }

  private mutating func writableRing() -> RingStorage {
    if isKnownUniquelyReferenced(&ring), let ring { return ring }
    let fresh = RingStorage(capacity: capacity)
    if let old = ring { fresh.base.copyMemory(from: old.base, byteCount: capacity) }
    ring = fresh
    return fresh
  }
}
