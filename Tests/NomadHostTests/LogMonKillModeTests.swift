import Foundation
import Testing

@testable import NomadHost

/// `LogMon.kill(_:)`'s modes and loss accounting, and reading many rotated files promptly.
@Suite struct LogMonKillModeTests {
  @Test func flushingKillKeepsWhatWasReadAndAReaderOfTheSameFifoGetsTheRest() async throws {
    let dir = TempDir()
    signal(SIGPIPE, SIG_IGN)
    let logmon = LogMon(config: LogMonConfig(logDir: dir.path, task: "f"))
    try await logmon.start()
    let (out, err) = await openWriters(dir, task: "f")
    defer {
      close(out)
      close(err)
    }
    let first = bytes(String(repeating: "first\n", count: 1000))
    #expect(first.withUnsafeBytes { write(out, $0.baseAddress, $0.count) } == first.count)
    #expect(await eventually { logmon.bytesCopied.stdout == first.count })
    // Killed well within the rotator's 100 ms flush interval: the flushing kill writes it out.
    let report = try #require(await logmon.kill(.flushing))
    #expect(report.lostBytes.stdout == 0 && report.lostBytes.stderr == 0)
    #expect(dir.read("f.stdout.0") == first)
    // No reader: EPIPE, and the writer keeps its descriptor.
    #expect(write(out, "x", 1) == -1 && errno == EPIPE)
    try await logmon.start()
    let second = bytes("second\n")
    // The new reader opens the FIFO on its own thread: until it has, writes still fail.
    #expect(await eventually { second.withUnsafeBytes { write(out, $0.baseAddress, $0.count) } == second.count })
    #expect(await eventually { dir.read("f.stdout.0") == first + second })
    #expect(logmon.lostBytes.stdout == 0)
  }

  @Test func sigkillReportsExactlyWhatLogmonLost() async throws {
    let dir = TempDir()
    for round in 0..<20 {
      let task = "s\(round)"
      let logmon = LogMon(config: LogMonConfig(logDir: dir.path, task: task))
      try await logmon.start()
      let (out, err) = await openWriters(dir, task: task)
      let data = bytes(String(repeating: "0123456789abcde\n", count: 64 * (round + 1)))
      #expect(data.withUnsafeBytes { write(out, $0.baseAddress, $0.count) } == data.count)
      // Kill at some point between the read and the rotator's periodic flush.
      try await Task.sleep(for: .milliseconds(5 * (round % 10)))
      let report = try #require(await logmon.kill(.sigkill))
      let inFile = dir.read("\(task).stdout.0")
      // What reached the file is a prefix; logmon lost exactly what it had read beyond it;
      // the rest is still in the pipe for the next reader.
      #expect(Array(data.prefix(inFile.count)) == inFile)
      #expect(inFile.count + report.lostBytes.stdout + report.bytesLeftInPipes.stdout == data.count, "round \(round)")
      #expect(logmon.lostBytes.stdout == report.lostBytes.stdout)
      close(out)
      close(err)
    }
  }

  @Test func readingManyRotatedFilesDoesNotWaitAPollIntervalPerFile() async throws {
    let dir = TempDir()
    var expected: [UInt8] = []
    for index in 0..<40 {
      let content = bytes("file \(index)\n")
      dir.write("r.stdout.\(index)", content)
      expected += content
    }
    let started = ContinuousClock.now
    let request = LogStreamRequest(logDir: dir.path, task: "r", type: .stdout, origin: .start)
    #expect(try await collect(AllocLogReader.bytes(request)) == expected)
    // Nomad's next-file watch fires at once when the next file exists: 40 files must not
    // take 40 × 100 ms.
    #expect(ContinuousClock.now - started < .seconds(1))
  }
}
