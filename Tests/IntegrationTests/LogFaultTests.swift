import Foundation
import MiloSupervisor
import NomadHost
import NomadPlugin
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Issue 4, faults: a numbered stream (`paced 100000 20`: 100,000 lines of 13 bytes, about 20
/// lines a millisecond, ~5 s) keeps every line, once and in order, while logmon or the plugin
/// is killed mid-stream; a full buffer reports exactly what it dropped.
///
/// What "lossless" means with Nomad's logmon:
/// - Between the application and the FIFO everything is milo's: the supervisor drains the
///   container's pipe at once, buffers while no reader is attached (up to `log_buffer_bytes`),
///   keeps its descriptor of the FIFO (so bytes already in the pipe stay there for the next
///   reader of the same inode) and reconnects within 50 ms. milo must lose nothing there.
/// - Inside logmon, Nomad buffers up to 64 KiB per stream in its rotator (flushed every 100 ms)
///   and has one 32 KiB read in flight. A SIGKILLed logmon loses those bytes (the built-in
///   drivers lose them for good, and more: their task writes to the FIFO directly and gets
///   EPIPE); milo's supervisor keeps a history of what it delivered and sends them again.
/// So `logmonRestartsLoseAndDuplicateNothing` restarts logmon in a way that loses nothing it
/// read (`LogMon.kill(.flushing)`: read ends closed at once, what was read is written and
/// flushed) and demands the exact stream; `aKilledLogmonsBufferIsSentAgain` SIGKILLs it until
/// one kill costs logmon bytes (`LogMon.lostBytes`) and still demands the exact stream, because
/// the supervisor sends again what logmon lost; the plugin kill touches nothing in the data path
/// and must lose nothing.
@Suite(.serialized, .enabled(if: Fixtures.canRunContainers, "needs root, crun, a JDK and the milo binary"))
struct LogFaultTests {
  static let count = 100_000
  static let streamArgs = ["paced", "\(count)", "20"]
  static let expected = Numbered.lines(1...count)

  /// The log is the whole numbered stream: every line, once, in order, nothing else.
  static func expectTheWholeStream(_ log: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
    let audit = Numbered.audit(log)
    let missing = audit.missing(upTo: count)
    #expect(missing.isEmpty, "missing \(missing.count): \(audit)", sourceLocation: sourceLocation)
    #expect(
      audit.duplicates == 0 && audit.inOrder && audit.otherLines.isEmpty, "\(audit)", sourceLocation: sourceLocation)
    #expect(
      log == expected, "first difference at \(firstDifference(log, expected) ?? -1)", sourceLocation: sourceLocation)
  }

  /// Two logmon restarts mid-stream, each leaving the FIFOs without a reader for 300 ms.
  @Test func logmonRestartsLoseAndDuplicateNothing() async throws {
    try await LogSession.with("logs-logmon") { session in
      let (alloc, runner) = try await session.runTestApp(Self.streamArgs, type: .batch)
      let logMon = try #require(runner.logMon)
      for fraction in [0.25, 0.6] {
        let threshold = Int(Double(Self.expected.count) * fraction)
        #expect(await eventually(timeout: .seconds(30)) { LogFiles.totalSize(alloc) >= threshold })
        let report = await logMon.kill(.flushing)
        let atKill = LogFiles.totalSize(alloc)
        #expect(atKill < Self.expected.count, "the stream ended before the restart")
        try await Task.sleep(for: .milliseconds(300))
        #expect(LogFiles.totalSize(alloc) == atKill, "nothing is read while logmon is away")
        try await logMon.start()
        print(
          "[logs-logmon] logmon restarted at byte \(atKill), \(report?.bytesLeftInPipes.stdout ?? -1) bytes left in the pipe"
        )
      }
      let final = await runner.waitUntilDone()
      #expect(final.state == .dead && !final.failed, "\(final.summary)")
      #expect(final.events.last { $0.type == TaskEvent.Kind.terminated }?.exitCode == 0, "\(final.summary)")

      Self.expectTheWholeStream(try await session.harness.logs(alloc))
      #expect(logMon.lostBytes.stdout == 0 && logMon.lostBytes.stderr == 0)
    }
  }

  /// A SIGKILLed logmon loses what it had buffered itself; the supervisor finds where its files
  /// end in what it delivered and sends the rest again, once: nothing lost, nothing twice.
  ///
  /// logmon's rotator flushes every 100 ms, so a kill can find it holding nothing; the test
  /// kills it again further on until one kill costs logmon bytes, and audits the whole stream.
  @Test func aKilledLogmonsBufferIsSentAgain() async throws {
    try await LogSession.with("logs-logmon-kill") { session in
      let (alloc, runner) = try await session.runTestApp(Self.streamArgs, type: .batch)
      let logMon = try #require(runner.logMon)
      var lostPerKill: [Int] = []
      for fraction in [0.3, 0.45, 0.6, 0.75] where !lostPerKill.contains(where: { $0 > 0 }) {
        let threshold = Int(Double(Self.expected.count) * fraction)
        guard await eventually(timeout: .seconds(30), { LogFiles.totalSize(alloc) >= threshold }) else { break }
        let report = try #require(await logMon.kill(.sigkill))
        let atKill = LogFiles.totalSize(alloc)
        try await Task.sleep(for: .milliseconds(300))
        try await logMon.start()
        guard atKill < Self.expected.count else { break }
        lostPerKill.append(report.lostBytes.stdout)
        print(
          "[logs-logmon-kill] logmon SIGKILLed at byte \(atKill); it lost \(report.lostBytes.stdout) bytes of stdout")
      }
      let final = await runner.waitUntilDone()
      #expect(final.state == .dead && !final.failed, "\(final.summary)")

      #expect(lostPerKill.contains { $0 > 0 }, "no kill found logmon holding bytes: \(lostPerKill)")
      #expect(lostPerKill.allSatisfy { $0 <= 64 * 1024 + 32 * 1024 }, "what logmon held: \(lostPerKill)")
      Self.expectTheWholeStream(try await session.harness.logs(alloc))
    }
  }

  /// The plugin is SIGKILLed mid-stream; Nomad starts a new instance and recovers the task
  /// (`RecoverTask`); the supervisor and the stream are untouched.
  @Test func aKilledPluginLosesAndDuplicatesNothing() async throws {
    try await LogSession.with("logs-plugin-kill") { session in
      let (alloc, runner) = try await session.runTestApp(Self.streamArgs, type: .batch)
      let manager = try await session.harness.driver
      let supervisors = SupervisorProbe.pids(stateDir: session.harness.stateDir)
      #expect(supervisors.count == 1)
      let oldPlugin = try #require(await manager.currentInstance)
      #expect(await runner.driverClient?.pid == oldPlugin.pid)
      let dispensed = await manager.dispenseCount
      let taskID = try #require(await runner.currentTaskID)

      #expect(await eventually(timeout: .seconds(30)) { LogFiles.totalSize(alloc) >= Self.expected.count * 3 / 10 })
      await manager.killPlugin()
      let atKill = LogFiles.totalSize(alloc)
      #expect(!oldPlugin.isRunning)
      #expect(await eventually(timeout: .seconds(20)) { await manager.dispenseCount == dispensed + 1 })
      // The task runner's WaitTask failed with the plugin; it dispensed the new instance and
      // recovered the task on it (RecoverTask with the stored handle).
      #expect(await eventually(timeout: .seconds(20)) { await runner.driverClient?.pid != oldPlugin.pid })
      #expect(await runner.currentTaskID == taskID)
      let recoveredAt = LogFiles.totalSize(alloc)
      print("[logs-plugin-kill] plugin SIGKILLed at byte \(atKill), new instance by byte \(recoveredAt)")
      #expect(atKill < Self.expected.count, "the stream ended before the kill")
      #expect(
        SupervisorProbe.pids(stateDir: session.harness.stateDir) == supervisors, "the supervisor must be untouched")
      #expect(await runner.taskState.state == .running)

      let final = await runner.waitUntilDone()
      #expect(final.state == .dead && !final.failed, "\(final.summary)")
      // The exit status came through WaitTask on the new instance, after RecoverTask.
      #expect(final.events.last { $0.type == TaskEvent.Kind.terminated }?.exitCode == 0, "\(final.summary)")
      Self.expectTheWholeStream(try await session.harness.logs(alloc))
    }
  }

  /// At full speed (`flood`, about 100 MiB/s) across three logmon restarts, the last with the
  /// reader away for 500 ms, the relay's 4 MiB buffer cannot hold everything: the log must
  /// be the stream minus exactly what the drop markers report, each marker standing where its
  /// bytes are missing; the application is never blocked and exits normally.
  @Test func underAFloodEveryDroppedByteIsReported() async throws {
    let total = 300 * 1_048_576  // 3,145,728 lines of 100 bytes
    try await LogSession.with("logs-flood-restarts") { session in
      let (alloc, runner) = try await session.runTestApp(
        ["flood", "\(total)"], type: .batch, logs: LogConfigSpec(maxFiles: 60, maxFileSizeMB: 10))
      let logMon = try #require(runner.logMon)
      // The long pause comes last: before it the files trail the application by a few MiB at
      // most (what the relay, the pipes and the rotator hold), so every threshold is reached.
      for (fraction, pause) in [(0.15, 0), (0.35, 0), (0.6, 500)] {
        let threshold = Int(Double(total) * fraction)
        _ = await eventually(timeout: .seconds(60), every: .milliseconds(5)) {
          if LogFiles.totalSize(alloc) >= threshold { return true }
          return await runner.taskState.state == .dead
        }
        let state = await runner.taskState.state
        try #require(LogFiles.totalSize(alloc) >= threshold && state == .running, "the flood ended too soon")
        let report = await logMon.kill(.flushing)
        if pause > 0 { try await Task.sleep(for: .milliseconds(pause)) }
        try await logMon.start()
        print(
          "[logs-flood-restarts] restart at \(LogFiles.totalSize(alloc)) bytes, reader away \(pause) ms, "
            + "\(report?.bytesLeftInPipes.stdout ?? -1) bytes left in the pipe")
      }
      let final = await runner.waitUntilDone()
      #expect(final.state == .dead && !final.failed, "\(final.summary)")
      #expect(final.events.last { $0.type == TaskEvent.Kind.terminated }?.exitCode == 0, "\(final.summary)")
      #expect(logMon.lostBytes.stdout == 0)

      var log: [UInt8] = []
      log.reserveCapacity(total + 4096)
      try await LogFiles.stream(alloc) { log += $0 }
      let audit = FloodDropAudit.audit(log, total: total)
      print("[logs-flood-restarts] \(audit)")
      #expect(audit.problems.isEmpty, "\(audit)")
      #expect(!audit.drops.isEmpty, "500 ms without a reader at full speed must overflow 4 MiB")
    }
  }

  /// With a 64 KiB buffer and no reader, 20,000 lines (260,000 bytes) overflow it: the oldest
  /// whole lines are dropped, one marker line reports exactly how many lines and bytes, the
  /// newest lines fill the buffer, and the application keeps running.
  @Test func anOverflowReportsTheExactDropCountAndTheAppKeepsRunning() async throws {
    let count = 20_000
    let capacity = 65_536
    try await LogSession.with("logs-overflow", pluginConfig: ["log_buffer_bytes": .int(Int64(capacity))]) { session in
      let (alloc, runner) = try await session.runTestApp(["gated", "\(count)"])
      let logMon = try #require(runner.logMon)
      #expect(
        try await eventually(timeout: .seconds(15)) { try await session.harness.logs(alloc) == Array("ready\n".utf8) })
      // The reader goes away (in a way that loses nothing itself: every loss below is milo's).
      await logMon.kill(.flushing)
      alloc.touch("go")
      #expect(
        await eventually(timeout: .seconds(30)) { FileManager.default.fileExists(atPath: alloc.taskTmp("written")) })
      // The application wrote everything without blocking; let the supervisor read the rest.
      try await Task.sleep(for: .milliseconds(500))
      #expect(await runner.taskState.state == .running)
      try await logMon.start()
      // The relay reconnects (within 50 ms) and writes the marker and what it kept; only then
      // does the application print once more (else that line too would be in the full buffer).
      #expect(
        try await eventually(timeout: .seconds(15)) {
          text(try await session.harness.logs(alloc)).hasSuffix(Numbered.line(count))
        })
      alloc.touch("go2")
      #expect(
        try await eventually(timeout: .seconds(15)) {
          text(try await session.harness.logs(alloc)).hasSuffix("still running\n")
        })
      #expect(await runner.taskState.state == .running)

      let log = text(try await session.harness.logs(alloc))
      var lines = log.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      #expect(lines.last == "")
      lines.removeLast()
      #expect(lines.first == "ready")
      #expect(lines.last == "still running")
      #expect(log.components(separatedBy: "[milo] dropped").count == 2, "exactly one marker")
      let marker = lines.count > 1 ? lines[1] : ""
      let parsed = parseDropMarker(marker)
      #expect(parsed != nil, "marker line: \(marker)")
      let numbered = Array(lines.dropFirst(2).dropLast()).map { $0 + "\n" }.joined()
      let audit = Numbered.audit(Array(numbered.utf8))
      let missing = audit.missing(upTo: count)
      let retained = (count - missing.count) * Numbered.lineLength
      print(
        "[logs-overflow] marker: \(marker); \(missing.count) lines missing, \(retained) bytes of lines kept in a \(capacity)-byte buffer"
      )
      #expect(audit.otherLines.isEmpty, "\(audit)")
      #expect(audit.duplicates == 0 && audit.inOrder, "\(audit)")
      #expect(!missing.isEmpty && missing == Array(1...missing.count), "the oldest lines are the ones dropped")
      #expect(parsed?.lines == missing.count)
      #expect(parsed?.bytes == missing.count * Numbered.lineLength)
      #expect(retained <= capacity && retained > capacity - Numbered.lineLength, "retained \(retained)")

      let final = try #require(await alloc.stop()["java-app"])
      #expect(final.state == .dead && !final.failed, "\(final.summary)")
    }
  }
}

/// `[milo] dropped N lines (M bytes) of stdout: the log reader was too slow or absent`.
func parseDropMarker(_ line: String, stream: String = "stdout") -> (lines: Int, bytes: Int)? {
  let prefix = "[milo] dropped "
  let suffix = " bytes) of \(stream): the log reader was too slow or absent"
  guard line.hasPrefix(prefix), line.hasSuffix(suffix) else { return nil }
  let middle = line.dropFirst(prefix.count).dropLast(suffix.count)  // "N lines (M"
  let parts = middle.components(separatedBy: " lines (")
  guard parts.count == 2, let lines = Int(parts[0]), let bytes = Int(parts[1]) else { return nil }
  return (lines, bytes)
}
