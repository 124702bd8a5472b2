import MiloSupervisor
import Testing

/// The buffer is a fixed ring: bytes wrap around its end, `fill` reads straight into it, and
/// `consumeContiguous` hands out at most one contiguous run at a time.
@Suite struct LogBufferRingTests {
  typealias Model = LogBufferLongLineTests.Model

  /// The expected `utf8SafeLength()` of `bytes` (held back: an incomplete trailing sequence).
  static func utf8SafeLength(_ bytes: [UInt8]) -> Int {
    for back in 0..<min(3, bytes.count) {
      let byte = bytes[bytes.count - 1 - back]
      guard byte & 0xC0 == 0x80 else {
        let needed: Int
        switch byte {
        case 0xC0..<0xE0: needed = 2
        case 0xE0..<0xF0: needed = 3
        case 0xF0..<0xF8: needed = 4
        default: needed = 1
        }
        return back + 1 >= needed ? bytes.count : bytes.count - back - 1
      }
    }
    return bytes.count
  }

  @Test func matchesTheModelThroughFillsWrapsAndPartialConsumes() {
    var random = LogBufferLongLineTests.Random(state: 0xD1B5_4A32_D192_ED03)
    let alphabet: [UInt8] = [0x61, 0x62, 0x0A, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80]
    for capacity in [1, 3, 16, 100, 4097, 20_000] {
      var buffer = LogBuffer(capacity: capacity)
      var model = Model(capacity: capacity)
      for step in 0..<3000 {
        let context: Comment = "capacity \(capacity) step \(step)"
        switch random.next(10) {
        case 0..<3:
          let chunk = (0..<random.next(capacity * 2 + 2)).map { _ in alphabet[random.next(alphabet.count)] }
          buffer.append(chunk)
          model.append(chunk)
        case 3..<6:
          let maximum = random.next(capacity + 2)
          let expectedRoom = min(maximum, buffer.contiguousFreeSpace)
          var called = false
          var written: [UInt8] = []
          let result = buffer.fill(maximum: maximum) { space in
            called = true
            #expect(space.count == expectedRoom, context)
            let n = random.next(6) == 0 ? -1 : random.next(space.count + 1)
            for index in 0..<max(n, 0) {
              space[index] = alphabet[random.next(alphabet.count)]
              written.append(space[index])
            }
            return n
          }
          #expect(called == (expectedRoom > 0), context)
          #expect(result == (called ? (written.isEmpty && result < 0 ? -1 : written.count) : 0), context)
          model.bytes += written
        case 6..<9:
          let limit = random.next(capacity + 2)
          buffer.consumeContiguous(upTo: limit) { raw in
            #expect(raw.count <= min(limit, model.bytes.count), context)
            if limit > 0 && !model.bytes.isEmpty { #expect(raw.count > 0, context) }
            #expect(Array(raw) == Array(model.bytes.prefix(raw.count)), context)
            let take = random.next(raw.count + 1)
            model.bytes.removeFirst(take)
            return take
          }
        default:
          let take = random.next(model.bytes.count + 1)
          buffer.consume { raw in
            #expect(Array(raw) == model.bytes, context)
            return take
          }
          model.bytes.removeFirst(take)
        }
        #expect(buffer.count == model.bytes.count, context)
        #expect(buffer.count <= capacity, context)
        #expect(buffer.completeLinesLength() == model.completeLinesLength, context)
        #expect(buffer.utf8SafeLength() == Self.utf8SafeLength(model.bytes), context)
        #expect(buffer.totalDroppedLines == model.droppedLines, context)
        #expect(buffer.totalDroppedBytes == model.droppedBytes, context)
        if buffer.isEmpty {
          #expect(buffer.contiguousFreeSpace == capacity, context)
        } else {
          #expect(buffer.contiguousFreeSpace <= capacity - buffer.count, context)
          #expect((buffer.contiguousFreeSpace > 0) == (buffer.count < capacity), context)
        }
      }
    }
  }

  @Test func fillAddsWithoutDroppingAndFindsTheLastNewline() {
    var buffer = LogBuffer(capacity: 8)
    let n = buffer.fill(maximum: 100) { space in
      #expect(space.count == 8)
      for (index, byte) in "ab\ncd".utf8.enumerated() { space[index] = byte }
      return 5
    }
    #expect(n == 5)
    #expect(buffer.count == 5 && buffer.completeLinesLength() == 3)
    #expect(buffer.contiguousFreeSpace == 3)
    buffer.append(Array("efg".utf8))  // full, nothing dropped
    #expect(buffer.count == 8 && buffer.totalDroppedBytes == 0)
    var called = false
    let filled = buffer.fill(maximum: 100) { _ in
      called = true
      return 1
    }
    #expect(filled == 0)
    #expect(!called)
    #expect(buffer.totalDroppedBytes == 0)
  }

  @Test func wrappedBytesComeOutInTwoContiguousRuns() {
    var buffer = LogBuffer(capacity: 10)
    buffer.append(Array("0123456\n".utf8))  // ring offsets 0..<8
    buffer.consumeContiguous(upTo: 6) { $0.count }  // "6\n" left at offsets 6..<8
    buffer.append(Array("abcdef\n".utf8))  // wraps: "ab" at 8..<10, "cdef\n" at 0..<5
    #expect(buffer.count == 9 && buffer.completeLinesLength() == 9)
    var runs: [String] = []
    while !buffer.isEmpty {
      buffer.consumeContiguous(upTo: 100) { raw in
        runs.append(String(decoding: raw, as: UTF8.self))
        return raw.count
      }
    }
    #expect(runs.joined() == "6\nabcdef\n")
    #expect(runs.count <= 2)
  }

  @Test func anEmptiedBufferStartsOverAtTheRingsBeginning() {
    var buffer = LogBuffer(capacity: 100)
    buffer.append([UInt8](repeating: 0x78, count: 70))
    buffer.consume { $0.count }
    // All 100 bytes are contiguous again: no wrap, so one read can fill the whole ring.
    #expect(buffer.contiguousFreeSpace == 100)
    buffer.append(Array(String(repeating: "line\n", count: 14).utf8) + Array("par".utf8))  // 73 bytes
    buffer.consumeContiguous(upTo: buffer.completeLinesLength()) { $0.count }
    // The held partial line moved to the beginning too.
    #expect(buffer.count == 3 && buffer.contiguousFreeSpace == 97)
    var rest: [UInt8] = []
    buffer.consume { raw in
      rest = Array(raw)
      return 0
    }
    #expect(rest == Array("par".utf8))
  }

  @Test func copiesAreIndependent() {
    var original = LogBuffer(capacity: 16)
    original.append(Array("abc\n".utf8))
    var copy = original
    copy.append(Array("def\n".utf8))
    _ = copy.fill(maximum: 2) { space in
      space[0] = 0x67
      space[1] = 0x0A
      return 2
    }
    original.consume { raw in
      #expect(Array(raw) == Array("abc\n".utf8))
      return 1
    }
    copy.consume { raw in
      #expect(Array(raw) == Array("abc\ndef\ng\n".utf8))
      return 0
    }
    #expect(original.count == 3 && copy.count == 10)
  }
}
