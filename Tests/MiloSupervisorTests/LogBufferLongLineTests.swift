import MiloSupervisor
import Testing

/// The buffer's cost must not grow with what it holds: a long line without newlines, buffered
/// while the reader lags, used to be rescanned on every flush and every overflow.
@Suite struct LogBufferLongLineTests {
  /// A plain model of the buffer: the old, rescanning algorithm.
  struct Model {
    let capacity: Int
    var bytes: [UInt8] = []
    var droppedLines = 0
    var droppedBytes = 0

    mutating func append(_ new: [UInt8]) {
      bytes += new
      guard bytes.count > capacity else { return }
      let excess = bytes.count - capacity
      var cut = 0
      var lines = 0
      while cut < excess {
        if let newline = bytes[cut...].firstIndex(of: 0x0A) {
          cut = newline + 1
          lines += 1
        } else {
          cut = excess
          break
        }
      }
      droppedLines += lines
      droppedBytes += cut
      bytes.removeFirst(cut)
    }

    var completeLinesLength: Int { (bytes.lastIndex(of: 0x0A)).map { $0 + 1 } ?? 0 }
  }

  /// xorshift, so the sequence is the same on every run.
  struct Random {
    var state: UInt64
    mutating func next(_ bound: Int) -> Int {
      state ^= state << 13
      state ^= state >> 7
      state ^= state << 17
      return Int(state % UInt64(bound))
    }
  }

  @Test func matchesTheModelThroughAppendsConsumesDropsAndCompaction() {
    var random = Random(state: 0x9E37_79B9_7F4A_7C15)
    for capacity in [1, 7, 100, 5000, 70_000] {
      var buffer = LogBuffer(capacity: capacity)
      var model = Model(capacity: capacity)
      for step in 0..<1500 {
        switch random.next(10) {
        case 0..<6:
          // Lines of very different lengths, sometimes without any newline for a long while.
          let length = random.next(4) == 0 ? random.next(100_000) : random.next(200)
          let newlineEvery = random.next(3) == 0 ? 0 : 1 + random.next(120)
          var chunk = [UInt8](repeating: UInt8(ascii: "x"), count: length)
          if newlineEvery > 0 {
            for index in stride(from: newlineEvery - 1, to: length, by: newlineEvery) { chunk[index] = 0x0A }
          }
          buffer.append(chunk)
          model.append(chunk)
        default:
          let take = random.next(max(1, model.bytes.count + 1))
          buffer.consume { raw in
            #expect(Array(raw) == model.bytes, "capacity \(capacity) step \(step)")
            return take
          }
          model.bytes.removeFirst(min(take, model.bytes.count))
        }
        #expect(buffer.count == model.bytes.count)
        #expect(buffer.completeLinesLength() == model.completeLinesLength, "capacity \(capacity) step \(step)")
        #expect(buffer.totalDroppedLines == model.droppedLines && buffer.totalDroppedBytes == model.droppedBytes)
      }
    }
  }

  @Test func aFullBufferOfOneLongLineCostsOnlyWhatIsAppended() {
    var buffer = LogBuffer(capacity: 4 << 20)
    let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 64 << 10)
    for _ in 0..<64 { buffer.append(chunk) }  // full: 4 MiB, no newline
    let started = ContinuousClock.now
    for _ in 0..<500 {
      buffer.append(chunk)  // overflows: drops 64 KiB of the line's oldest bytes
      #expect(buffer.completeLinesLength() == 0)
    }
    let elapsed = ContinuousClock.now - started
    #expect(buffer.count == 4 << 20)
    #expect(buffer.totalDroppedBytes == 500 * (64 << 10) && buffer.totalDroppedLines == 0)
    // Rescanning 4 MiB twice per append took tens of milliseconds each time (seconds here).
    #expect(elapsed < .seconds(3), "\(elapsed)")
  }
}
