import Foundation
import MiloSupervisor
import NomadHost
import NomadPlugin
import Testing

/// Issue 4, logs as a user sees them: `nomad alloc logs [-f]` on a real JVM in a real crun
/// container, through NomadHost's logmon, rotator and logs reader.
@Suite(.serialized, .enabled(if: Fixtures.canRunContainers, "needs root, crun, a JDK and the milo binary"))
struct LogAcceptanceTests {
  /// The user's scenario: a JAR that prints "Starting application..." and then "Processing..."
  /// every 2 s, watched with `nomad alloc logs -f`, then `nomad job stop`.
  @Test func theUsersScenario() async throws {
    try await LogSession.with("logs-user") { session in
      let (alloc, runner) = try await session.runTestApp(["serve", "2000"])
      let running = ContinuousClock.now
      let follower = try LogFollower.allocLogsF(alloc)
      defer { follower.stop() }

      let banner = "Starting application...\n"
      let processing = "Processing..."
      #expect(await follower.wait(timeout: .seconds(15)) { text($0).hasPrefix(banner) }, "\(follower.text)")
      let bannerSeen = ContinuousClock.now
      print("[logs-user] banner seen \(bannerSeen - running) after the task was running")

      // 5 s after the application started: the banner and exactly two "Processing..." lines
      // (printed at +2 s and +4 s; the third comes at +6 s).
      try await Task.sleep(until: bannerSeen + .seconds(5))
      #expect(follower.text == banner + "Processing...\nProcessing...\n")
      #expect(follower.error == nil)

      // New lines keep arriving every 2 s while the task is running.
      #expect(
        await follower.wait(timeout: .seconds(10)) { bytes in
          text(bytes).components(separatedBy: "\n").filter { $0 == processing }.count >= 4
        })
      #expect(await runner.taskState.state == .running)
      let arrivals = lineArrivals(follower)
      let processingTimes = arrivals.filter { $0.line == processing }.map(\.at)
      let gaps = zip(processingTimes, processingTimes.dropFirst()).map { ($1 - $0).seconds }
      print("[logs-user] intervals between Processing lines: \(gaps.map { String(format: "%.2f s", $0) })")
      #expect(gaps.count >= 3)
      #expect(gaps.allSatisfy { $0 > 1.5 && $0 < 2.5 }, "\(gaps)")

      // `nomad job stop`: dead, not failed, within 5 s; the shutdown hook's line is not lost.
      let stopping = ContinuousClock.now
      let states = await alloc.stop()
      let stopTime = ContinuousClock.now - stopping
      print("[logs-user] stop took \(stopTime)")
      let final = try #require(states["java-app"])
      #expect(final.state == .dead)
      #expect(!final.failed, "\(final.summary)")
      #expect(stopTime < .seconds(5))
      #expect(final.events.map(\.type).contains(TaskEvent.Kind.killed), "\(final.summary)")

      let log = text(try await session.harness.logs(alloc))
      let lines = log.components(separatedBy: "\n")
      #expect(log.hasPrefix(banner) && log.hasSuffix("Processing...\nShutting down\n"), "\(log)")
      #expect(lines.dropFirst().dropLast(2).allSatisfy { $0 == processing }, "\(log)")
      // The follower, still attached, gets the same bytes.
      #expect(await follower.wait(timeout: .seconds(3)) { text($0) == log }, "\(follower.text)")
    }
  }

  /// Several `nomad alloc logs -f` at once see identical bytes, across rotations, while the
  /// application writes.
  @Test func concurrentFollowersSeeIdenticalContent() async throws {
    let count = 300_000  // 3.9 MB: four 1 MB files
    try await LogSession.with("logs-followers") { session in
      let (alloc, _) = try await session.runTestApp(
        ["gated", "\(count)", "100"], logs: LogConfigSpec(maxFiles: 10, maxFileSizeMB: 1))
      let plain = try LogFollower.allocLogsF(alloc)  // nomad alloc logs -f
      let first = try LogFollower.allocLogsF(alloc, type: .stdout)  // nomad alloc logs -f -stdout
      let second = try LogFollower.allocLogsF(alloc, type: .stdout)
      let followers = [plain, first, second]
      defer { for follower in followers { follower.stop() } }
      for follower in followers {
        #expect(await follower.wait(timeout: .seconds(15)) { text($0) == "ready\n" }, "\(follower.text)")
      }

      alloc.touch("go")
      // One more joins while the application is writing, from the start of the first file.
      #expect(await eventually(timeout: .seconds(15)) { LogFiles.files(alloc).count >= 2 })
      let late = try LogFollower.allocLogsF(alloc, type: .stdout)
      defer { late.stop() }
      #expect(!FileManager.default.fileExists(atPath: alloc.taskTmp("written")), "joined too late to be concurrent")

      let expected = Array("ready\n".utf8) + Numbered.lines(1...count)
      for follower in followers + [late] {
        #expect(await follower.wait(timeout: .seconds(60)) { $0.count >= expected.count })
      }
      let files = LogFiles.files(alloc)
      print("[logs-followers] \(files.count) files; follower sizes \(([plain, first, second, late]).map(\.count))")
      #expect(files.count >= 4, "the stream should span rotations: \(files)")
      for follower in followers + [late] {
        #expect(follower.count == expected.count)
        #expect(follower.bytes == expected, "first difference at \(firstDifference(follower.bytes, expected) ?? -1)")
        #expect(follower.error == nil)
      }
      #expect(try await session.harness.logs(alloc) == expected)
    }
  }

  /// A prompt without a newline ("Enter name: ") is in the log within about a second.
  @Test func aPartialLineShowsUpPromptly() async throws {
    try await LogSession.with("logs-prompt") { session in
      let (alloc, _) = try await session.runTestApp(["prompt-timed"])
      let follower = try LogFollower.allocLogsF(alloc)
      defer { follower.stop() }
      var seenAt: Date?
      let seen = await eventually(timeout: .seconds(15), every: .milliseconds(5)) {
        if follower.text == "Enter name: " {
          seenAt = Date()
          return true
        }
        return false
      }
      #expect(seen, "\(follower.text)")
      let stamp = alloc.taskTmp("prompted-at")
      #expect(await eventually(timeout: .seconds(5)) { FileManager.default.fileExists(atPath: stamp) })
      let printedNanos = try #require(Int64((try? String(contentsOfFile: stamp, encoding: .utf8)) ?? ""))
      let printed = Date(timeIntervalSince1970: Double(printedNanos) / 1e9)
      let latency = try #require(seenAt).timeIntervalSince(printed)
      print(
        "[logs-prompt] \"Enter name: \" reached `nomad alloc logs -f` \(String(format: "%.3f", latency)) s after print")
      #expect(latency > 0 && latency < 1.0)
      // Nothing is added to the partial line, and it stays as it is.
      try await Task.sleep(for: .milliseconds(300))
      #expect(try await session.harness.logs(alloc) == Array("Enter name: ".utf8))
    }
  }

  /// stdout and stderr written alternately arrive in separate files, unprefixed and whole.
  @Test func stderrIsSeparateFromStdout() async throws {
    let count = 5000
    try await LogSession.with("logs-streams") { session in
      let (alloc, runner) = try await session.runTestApp(["both", "\(count)"], type: .batch)
      let final = await runner.waitUntilDone()
      #expect(final.state == .dead && !final.failed, "\(final.summary)")
      let out = text(try await session.harness.logs(alloc, type: .stdout))
      let err = text(try await session.harness.logs(alloc, type: .stderr))
      #expect(out == (1...count).map { "out \($0)\n" }.joined(), "stdout starts \(out.prefix(200))")
      #expect(err == (1...count).map { "err \($0)\n" }.joined(), "stderr starts \(err.prefix(200))")
    }
  }

  /// With `logs { disabled = true }` there is no logmon, the task writes to /dev/null and runs
  /// and stops normally.
  @Test func disabledLogsGoToDevNull() async throws {
    try await LogSession.with("logs-disabled") { session in
      let (alloc, runner) = try await session.runTestApp(["serve", "100"], logs: LogConfigSpec(disabled: true))
      #expect(runner.logMon == nil)
      let pids = SupervisorProbe.pids(stateDir: session.harness.stateDir)
      #expect(pids.count == 1)
      let args = SupervisorProbe.arguments(try #require(pids.first))
      let stdoutPath = args.firstIndex(of: "--stdout").map { args[$0 + 1] }
      let stderrPath = args.firstIndex(of: "--stderr").map { args[$0 + 1] }
      #expect(stdoutPath == "/dev/null" && stderrPath == "/dev/null", "\(args)")
      // The application writes a line every 100 ms; it keeps running.
      try await Task.sleep(for: .seconds(2))
      #expect(await runner.taskState.state == .running)
      let logFiles = (try? FileManager.default.contentsOfDirectory(atPath: alloc.allocDir.logDir)) ?? []
      #expect(logFiles.filter { $0.contains("java-app") }.isEmpty, "\(logFiles)")
      let final = try #require(await alloc.stop()["java-app"])
      #expect(final.state == .dead && !final.failed, "\(final.summary)")
    }
  }
}

/// When each complete line of a follower's output arrived.
func lineArrivals(_ follower: LogFollower) -> [(line: String, at: ContinuousClock.Instant)] {
  let bytes = follower.bytes
  let arrivals = follower.arrivals
  var result: [(String, ContinuousClock.Instant)] = []
  var start = 0
  var arrival = 0
  for (index, byte) in bytes.enumerated() where byte == 0x0A {
    while arrival < arrivals.count && arrivals[arrival].total <= index { arrival += 1 }
    guard arrival < arrivals.count else { break }
    result.append((text(Array(bytes[start..<index])), arrivals[arrival].at))
    start = index + 1
  }
  return result
}

func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> Int? {
  for index in 0..<min(a.count, b.count) where a[index] != b[index] { return index }
  return a.count == b.count ? nil : min(a.count, b.count)
}
