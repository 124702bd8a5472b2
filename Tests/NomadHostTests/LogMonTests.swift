import Foundation
import MiloSys
import Testing

@testable import NomadHost

/// Writes all of `data`; the errno of a failure, or nil.
private func writeAll(_ fd: Int32, _ data: [UInt8]) -> Int32? {
  Posix.writeAll(fd, data) ? nil : errno
}

@Suite struct LogMonTests {
  @Test func copiesFifoIntoRotatedFilesAndEndsAtEOF() async throws {
    let dir = TempDir()
    let logmon = LogMon(config: LogMonConfig(logDir: dir.path, task: "web"))
    try await logmon.start()
    #expect(dir.exists(".web.stdout.fifo"))
    var info = stat()
    #expect(stat(dir.file(".web.stdout.fifo"), &info) == 0)
    #expect(info.st_mode & S_IFMT == S_IFIFO)
    #expect(info.st_mode & 0o777 == 0o600)
    let (out, err) = await openWriters(dir, task: "web")
    #expect(out >= 0 && err >= 0)
    #expect(writeAll(out, bytes("hello\n")) == nil)
    #expect(writeAll(err, bytes("oops\n")) == nil)
    #expect(logmon.isRunning)
    close(out)
    close(err)
    #expect(await eventually { !logmon.isRunning })
    await logmon.stop()
    #expect(dir.readText("web.stdout.0") == "hello\n")
    #expect(dir.readText("web.stderr.0") == "oops\n")
    #expect(logmon.bytesCopied == (6, 5))
    // FIFOs are never removed.
    #expect(dir.exists(".web.stdout.fifo"))
  }

  @Test func stopWithoutWriterReturnsWithinTolerance() async throws {
    let dir = TempDir()
    let logmon = LogMon(config: LogMonConfig(logDir: dir.path, task: "idle"))
    try await logmon.start()
    let start = ContinuousClock.now
    await logmon.stop()
    let elapsed = ContinuousClock.now - start
    #expect(elapsed < .seconds(5))
    #expect(elapsed >= .seconds(2))
  }

  @Test func startIsANoOpWhileRunningAndRestartsAfterEOF() async throws {
    let dir = TempDir()
    let logmon = LogMon(config: LogMonConfig(logDir: dir.path, task: "t"))
    try await logmon.start()
    var (out, err) = await openWriters(dir, task: "t")
    _ = writeAll(out, bytes("one\n"))
    try await logmon.start()  // no-op
    close(out)
    close(err)
    #expect(await eventually { !logmon.isRunning })
    // A task restart: prestart runs logmon.Start again, which replaces the finished readers.
    try await logmon.start()
    (out, err) = await openWriters(dir, task: "t")
    _ = writeAll(out, bytes("two\n"))
    close(out)
    close(err)
    await logmon.stop()
    #expect(dir.readText("t.stdout.0") == "one\ntwo\n")
  }

  @Test func killDropsTheReaderAndRestartReopensTheSameFifos() async throws {
    let dir = TempDir()
    let logmon = LogMon(config: LogMonConfig(logDir: dir.path, task: "k"))
    try await logmon.start()
    let (out, err) = await openWriters(dir, task: "k")
    _ = writeAll(out, bytes("before\n"))
    #expect(await eventually { dir.readText("k.stdout.0") == "before\n" })
    logmon.kill()
    #expect(!logmon.isRunning)
    // With no reader left, the writer gets EPIPE.
    signal(SIGPIPE, SIG_IGN)
    var failure: Int32?
    _ = await eventually {
      failure = writeAll(out, bytes("lost\n"))
      return failure != nil
    }
    #expect(failure == EPIPE)
    close(out)
    close(err)
    // A new logmon on the same paths; a reconnecting writer continues the same file.
    try await logmon.restart()
    let (out2, err2) = await openWriters(dir, task: "k")
    _ = writeAll(out2, bytes("after\n"))
    close(out2)
    close(err2)
    await logmon.stop()
    #expect(dir.readText("k.stdout.0") == "before\nafter\n")
  }

  @Test func killBeforeAnyWriterUnblocksTheOpen() async throws {
    let dir = TempDir()
    let logmon = LogMon(config: LogMonConfig(logDir: dir.path, task: "w"))
    try await logmon.start()
    logmon.kill()
    try await logmon.start()
    #expect(logmon.isRunning)
    await logmon.stop()
  }

  @Test func sustainsHighThroughput() async throws {
    let dir = TempDir()
    let logmon = LogMon(config: LogMonConfig(logDir: dir.path, task: "fast", maxFiles: 3, maxFileSizeMB: 10))
    try await logmon.start()
    let (out, err) = await openWriters(dir, task: "fast")
    let line = bytes(String(repeating: "x", count: 199) + "\n")
    var block: [UInt8] = []
    for _ in 0..<(256 * 1024 / line.count) { block += line }
    let total = 200 * 1024 * 1024
    let start = ContinuousClock.now
    var written = 0
    while written < total {
      #expect(writeAll(out, block) == nil)
      written += block.count
    }
    close(out)
    close(err)
    #expect(await eventually(timeout: .seconds(30)) { !logmon.isRunning })
    let elapsed = ContinuousClock.now - start
    await logmon.stop()
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let rate = Double(written) / seconds / 1_048_576
    print("logmon throughput: \(Int(rate)) MiB/s")
    #expect(logmon.bytesCopied.stdout == written)
    #expect(rate > 100)
    // Only the newest 3 files are kept.
    #expect(dir.names().filter { $0.hasPrefix("fast.stdout.") }.count == 3)
  }
}
