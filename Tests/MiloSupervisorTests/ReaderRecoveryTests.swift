import Foundation
import MiloSupervisor
import Testing

/// Deciding what a killed logmon never wrote to its files: the files' end must match exactly one
/// place in what was delivered; otherwise nothing is resent (and the relay says so).
@Suite struct ReaderRecoveryTests {
  static func numbered(_ range: ClosedRange<Int>) -> [UInt8] {
    Array(range.map { String(format: "line %07d\n", $0) }.joined().utf8)
  }

  @Test func theBytesAfterTheFilesEndAreResent() {
    let delivered = Self.numbered(1...1000)
    // The files hold lines 1...900 and half of line 901 (the rotator flushes at any byte).
    let onDisk = Self.numbered(1...900) + Array("line 00009".utf8)
    let outcome = ReaderRecovery.decide(history: delivered, diskTail: Array(onDisk.suffix(4096)), fromStart: true)
    #expect(outcome == .resend(delivered.count - onDisk.count))
    #expect(ReaderRecovery.decide(history: delivered, diskTail: delivered, fromStart: true) == .resend(0))
  }

  @Test func aFileLongerThanTheHistoryStillMatchesItsEnd() {
    // The history lost its beginning (evicted): the compared tail must leave room for every
    // place within maxReaderHold of its end.
    let delivered = Self.numbered(1...20_000)
    let onDisk = Self.numbered(1...19_990)
    #expect(ReaderRecovery.decide(history: delivered, diskTail: onDisk, fromStart: false) == .resend(10 * 13))
    let short = Self.numbered(1...1000)
    #expect(
      ReaderRecovery.decide(history: short, diskTail: short, fromStart: false)
        == .undecidable("too little of what was sent is kept to tell"))
  }

  @Test func aRotatedOrTruncatedFileIsUndecidable() {
    let delivered = Self.numbered(1...1000)
    // Truncated to something never sent, or the newest file is from another writer.
    let outcome = ReaderRecovery.decide(
      history: delivered, diskTail: Array("unrelated content\n".utf8), fromStart: true)
    guard case .undecidable(let reason) = outcome else {
      Issue.record("expected undecidable, got \(outcome)")
      return
    }
    #expect(reason.contains("not in the last \(delivered.count) bytes sent"))
    // No file with content at all.
    #expect(
      ReaderRecovery.decide(history: delivered, diskTail: [], fromStart: true)
        == .undecidable("none of its log files has content"))
  }

  @Test func repeatingOutputIsUndecidableUnlessALongerTailIsUnique() {
    // The same line over and over, ten of them lost: the files' end matches at many places.
    let same = Array(String(repeating: "heartbeat ok\n", count: 2000).utf8)
    let outcome = ReaderRecovery.decide(history: same, diskTail: Array(same.prefix(25_870)), fromStart: true)
    guard case .undecidable(let reason) = outcome else {
      Issue.record("repeating output must not be guessed: \(outcome)")
      return
    }
    #expect(reason.contains("more than one place"))
    // Repeats near the end, but a longer tail reaches a unique line: decided.
    let delivered = Self.numbered(1...100) + same + Array("tail\n".utf8)
    let onDisk = Self.numbered(1...100) + Array(same.prefix(1300))
    #expect(
      ReaderRecovery.decide(history: delivered, diskTail: onDisk, fromStart: true)
        == .resend(delivered.count - onDisk.count))
  }

  @Test func notNomadsLayoutOrNothingDeliveredMeansNothingToResend() {
    #expect(ReaderRecovery.decide(history: Self.numbered(1...3), diskTail: nil, fromStart: true) == .resend(0))
    #expect(ReaderRecovery.decide(history: [], diskTail: Array("x".utf8), fromStart: true) == .resend(0))
  }

  @Test func theNewestFileWithContentIsRead() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("milo-recovery-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let fifo = dir + "/.app.stdout.fifo"
    #expect(ReaderRecovery.newestLogTail(fifoPath: fifo, limit: 100) == [])
    try "first\n".write(toFile: dir + "/app.stdout.0", atomically: true, encoding: .utf8)
    try "second file\n".write(toFile: dir + "/app.stdout.1", atomically: true, encoding: .utf8)
    try "".write(toFile: dir + "/app.stdout.2", atomically: true, encoding: .utf8)  // just rotated
    try "other".write(toFile: dir + "/app.stderr.7", atomically: true, encoding: .utf8)
    #expect(ReaderRecovery.newestLogTail(fifoPath: fifo, limit: 100) == Array("second file\n".utf8))
    #expect(ReaderRecovery.newestLogTail(fifoPath: fifo, limit: 5) == Array("file\n".utf8))
    #expect(ReaderRecovery.newestLogTail(fifoPath: dir + "/plain.fifo", limit: 100) == nil)
  }

  @Test func historyKeepsTheLastBytesAndForgetsTakenBackOnes() {
    var history = DeliveredHistory(capacity: 10)
    Array("abcdefgh".utf8).withUnsafeBytes { history.record($0) }
    Array("ijklmn".utf8).withUnsafeBytes { history.record($0) }
    #expect(history.bytes == Array("efghijklmn".utf8))
    history.dropLast(3)
    #expect(history.bytes == Array("efghijk".utf8))
    Array("XY".utf8).withUnsafeBytes { history.record($0) }
    #expect(history.last(4) == Array("jkXY".utf8))
    Array(String(repeating: "z", count: 25).utf8).withUnsafeBytes { history.record($0) }
    #expect(history.bytes == Array(String(repeating: "z", count: 10).utf8))
  }
}
