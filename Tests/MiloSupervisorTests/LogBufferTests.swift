import MiloSupervisor
import Testing

/// Everything the buffer holds, without consuming it.
private func contents(_ buffer: inout LogBuffer) -> [UInt8] {
  var out: [UInt8] = []
  buffer.consume { raw in
    out = Array(raw)
    return 0
  }
  return out
}

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite struct LogBufferTests {
  @Test func appendAndConsumeKeepBytesInOrder() {
    var buffer = LogBuffer(capacity: 64)
    buffer.append(bytes("hello "))
    buffer.append(bytes("world\n"))
    #expect(buffer.count == 12)
    #expect(!buffer.isEmpty)
    buffer.consume { raw in
      #expect(Array(raw) == bytes("hello world\n"))
      return 6
    }
    #expect(buffer.count == 6)
    #expect(contents(&buffer) == bytes("world\n"))
    buffer.consume { $0.count }
    #expect(buffer.isEmpty)
    #expect(buffer.count == 0)
  }

  @Test func consumeClampsItsResult() {
    var buffer = LogBuffer(capacity: 16)
    buffer.append(bytes("abc"))
    buffer.consume { _ in -5 }
    #expect(contents(&buffer) == bytes("abc"))
    buffer.consume { _ in 100 }
    #expect(buffer.isEmpty)
  }

  @Test func capacityIsAtLeastOne() {
    #expect(LogBuffer(capacity: 0).capacity == 1)
    #expect(LogBuffer(capacity: -3).capacity == 1)
    #expect(LogBuffer(capacity: 4096).capacity == 4096)
  }

  @Test func bufferAtExactlyCapacityDropsNothing() {
    var buffer = LogBuffer(capacity: 10)
    buffer.append(bytes("abcd\nefgh\n"))
    #expect(buffer.count == 10)
    #expect(buffer.pendingDroppedBytes == 0)
    #expect(buffer.takeDropMarker(stream: "stdout", atLineStart: true) == nil)
  }

  @Test func overflowDropsOldestWholeLines() {
    var buffer = LogBuffer(capacity: 12)
    buffer.append(bytes("one\ntwo\nthree\n"))  // 14 bytes: "one\n" (4) must go
    #expect(contents(&buffer) == bytes("two\nthree\n"))
    #expect(buffer.pendingDroppedLines == 1)
    #expect(buffer.pendingDroppedBytes == 4)
    buffer.append(bytes("four\nfive\n"))  // 20 bytes: "two\n" (4) is not enough, "three\n" goes too
    #expect(contents(&buffer) == bytes("four\nfive\n"))
    #expect(buffer.pendingDroppedLines == 3)
    #expect(buffer.pendingDroppedBytes == 14)
    #expect(buffer.totalDroppedLines == 3)
    #expect(buffer.totalDroppedBytes == 14)
  }

  @Test func dropMarkerReportsExactCountsAndResets() {
    var buffer = LogBuffer(capacity: 8)
    buffer.append(bytes("aaa\nbbb\nccc\n"))
    #expect(buffer.pendingDroppedLines == 1)
    let marker = buffer.takeDropMarker(stream: "stdout", atLineStart: true)
    #expect(
      marker
        == bytes("[milo] dropped 1 lines (4 bytes) of stdout: the log reader was too slow or absent\n"))
    #expect(buffer.pendingDroppedLines == 0)
    #expect(buffer.pendingDroppedBytes == 0)
    #expect(buffer.takeDropMarker(stream: "stdout", atLineStart: true) == nil)
    // Totals survive taking the marker.
    buffer.append(bytes("ddd\neee\n"))
    #expect(buffer.totalDroppedLines == 3)
    #expect(buffer.totalDroppedBytes == 12)
    let second = buffer.takeDropMarker(stream: "stderr", atLineStart: false)
    #expect(
      second
        == bytes("\n[milo] dropped 2 lines (8 bytes) of stderr: the log reader was too slow or absent\n"))
    #expect(contents(&buffer) == bytes("ddd\neee\n"))
  }

  @Test func partialLineLongerThanCapacityKeepsItsNewestBytes() {
    var buffer = LogBuffer(capacity: 8)
    buffer.append(bytes("0123456789AB"))
    #expect(contents(&buffer) == bytes("456789AB"))
    #expect(buffer.pendingDroppedLines == 0)
    #expect(buffer.pendingDroppedBytes == 4)
    // When the line ends, it is dropped whole: 1 line, 13 bytes in all.
    buffer.append(bytes("\n"))
    #expect(buffer.isEmpty)
    #expect(buffer.pendingDroppedLines == 1)
    #expect(buffer.pendingDroppedBytes == 13)
  }

  @Test func completeLineLongerThanCapacityIsDroppedWhole() {
    var buffer = LogBuffer(capacity: 8)
    buffer.append(bytes("ok\n"))
    buffer.append(bytes("0123456789\nend\n"))
    #expect(contents(&buffer) == bytes("end\n"))
    #expect(buffer.pendingDroppedLines == 2)
    #expect(buffer.pendingDroppedBytes == 14)
  }

  @Test func overflowWithTrailingPartialDropsLinesThenBytes() {
    var buffer = LogBuffer(capacity: 6)
    buffer.append(bytes("ab\ncdefghij"))  // 11 bytes, excess 5: "ab\n" (3) then 2 bytes of the partial
    #expect(contents(&buffer) == bytes("efghij"))
    #expect(buffer.pendingDroppedLines == 1)
    #expect(buffer.pendingDroppedBytes == 5)
  }

  @Test func dropsAfterPartialConsumeCountFromTheHead() {
    var buffer = LogBuffer(capacity: 10)
    buffer.append(bytes("abcd\nefgh\n"))
    buffer.consume { _ in 2 }  // "cd\nefgh\n" (8) remains
    buffer.append(bytes("ijk\n"))  // 12: "cd\n" (3) goes
    #expect(contents(&buffer) == bytes("efgh\nijk\n"))
    #expect(buffer.pendingDroppedLines == 1)
    #expect(buffer.pendingDroppedBytes == 3)
  }

  @Test func completeLinesLength() {
    var buffer = LogBuffer(capacity: 64)
    #expect(buffer.completeLinesLength() == 0)
    buffer.append(bytes("no newline"))
    #expect(buffer.completeLinesLength() == 0)
    buffer.append(bytes("\nsecond\nthi"))
    #expect(buffer.completeLinesLength() == 18)
    buffer.consume { _ in 11 }
    #expect(buffer.completeLinesLength() == 7)
    buffer.append(bytes("rd\n"))
    #expect(buffer.completeLinesLength() == 13)
  }

  @Test(
    arguments: [
      // (bytes, safe length)
      ([0x61, 0x62], 2),
      ([0x61, 0xC3], 1),  // é cut after its lead byte
      ([0x61, 0xC3, 0xA9], 3),  // é complete
      ([0xE2, 0x82], 0),  // € missing its last byte
      ([0x61, 0xE2, 0x82, 0xAC], 4),  // € complete
      ([0x61, 0xF0], 1),  // 😀 lead only
      ([0x61, 0xF0, 0x9F], 1),
      ([0x61, 0xF0, 0x9F, 0x98], 1),
      ([0x61, 0xF0, 0x9F, 0x98, 0x80], 5),  // 😀 complete
      ([0x00, 0xFF], 2),  // invalid bytes are not held back
      ([0x41, 0x80], 2),  // a stray continuation byte is not held back
    ] as [([UInt8], Int)])
  func utf8SafeLength(input: [UInt8], expected: Int) {
    var buffer = LogBuffer(capacity: 64)
    buffer.append(input)
    #expect(buffer.utf8SafeLength() == expected)
  }

  @Test func utf8SafeLengthAfterConsume() {
    var buffer = LogBuffer(capacity: 64)
    buffer.append(bytes("abc") + [0xE2, 0x82])
    buffer.consume { _ in 3 }
    #expect(buffer.count == 2)
    #expect(buffer.utf8SafeLength() == 0)
    buffer.append([0xAC])
    #expect(buffer.utf8SafeLength() == 3)
  }

  @Test func binaryBytesPassUnchanged() {
    var buffer = LogBuffer(capacity: 1024)
    let all = (0...255).map { UInt8($0) }
    buffer.append(all)
    #expect(contents(&buffer) == all)
  }

  @Test func largeVolumeKeepsOnlyTheNewestLinesWithExactTotals() {
    var buffer = LogBuffer(capacity: 100)
    var expectedKept: [UInt8] = []
    for index in 0..<10_000 {
      let line = bytes("line \(index % 10)\n")  // 7 bytes each
      buffer.append(line)
    }
    // 100 / 7 = 14 whole lines fit.
    for index in (10_000 - 14)..<10_000 { expectedKept += bytes("line \(index % 10)\n") }
    #expect(contents(&buffer) == expectedKept)
    #expect(buffer.totalDroppedLines == 10_000 - 14)
    #expect(buffer.totalDroppedBytes == (10_000 - 14) * 7)
  }
}
