import Foundation
import Milo
import MiloSupervisor
import MiloSys
import NomadHost
import NomadPlugin
import NomadProto
import Testing

/// Issue 5: operating milo tasks as Nomad users expect — stats, signals and task events, through
/// NomadHost's task runner and driver manager, with real containers and JVMs.
@Suite(.serialized, .enabled(if: Fixtures.canRunContainers, "needs root, crun, a JDK and the milo binary"))
struct OperationsTests {
  // MARK: - TaskStats

  @Test func statsStreamAtTheRequestedIntervalWithWhatTheCgroupMeasured() async throws {
    try await withMiloHarness("stats") { harness in
      let (alloc, runner) = try await harness.run(MiloHarness.testAppTask(["serve", "200"]))
      let state = try await Ops.started(harness, alloc, runner, log: "Processing...")
      let taskID = try #require(await runner.currentTaskID)
      let mode = try await Ops.cgroupMode(harness)
      let pluginPid = try await Ops.pluginPid(harness)
      let baselineFDs = Ops.openDescriptors(pluginPid)

      var samples: [TaskStatsProto] = []
      let opened = ContinuousClock.now
      for try await stats in try await runner.stats(interval: .milliseconds(500)) {
        samples.append(stats)
        if samples.count == 6 { break }  // ends the stream (the RPC is cancelled)
      }
      let elapsed = ContinuousClock.now - opened
      Ops.report("stats samples: \(samples.map { (try? $0.aggResourceUsage.jsonString()) ?? "" })")
      #expect(samples.count == 6)
      #expect(samples.allSatisfy { $0.id == taskID })
      // The first sample comes at once, then one every 500 ms (a fixed rate).
      #expect(elapsed > .milliseconds(2400) && elapsed < .milliseconds(3500), "6 samples took \(elapsed)")
      let times = samples.map { $0.timestamp.date.timeIntervalSince1970 }
      let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
      #expect(gaps.allSatisfy { $0 > 0.45 && $0 < 0.6 }, "gaps between samples: \(gaps)")

      // Memory: exactly the counters this host's cgroup has.
      let memoryFields: [Hashicorp_Nomad_Plugins_Drivers_Proto_MemoryUsage.Fields]
      let memoryStat: [String: UInt64]
      if mode == "v2" {
        let dir = "/sys/fs/cgroup/milo/\(state.containerID)"
        memoryStat = Ops.keyed(Posix.readText(dir + "/memory.stat"))
        memoryFields =
          [.rss, .cache]
          + (FileManager.default.fileExists(atPath: dir + "/memory.peak") ? [.maxUsage] : [])
          + (memoryStat["kernel"] != nil ? [.kernelUsage] : []) + [.usage]
          + (FileManager.default.fileExists(atPath: dir + "/memory.swap.current") ? [.swap] : [])
      } else {
        memoryStat = Ops.keyed(Ops.cgroupV1("memory", state, "memory.stat"))
        let kmem = Ops.cgroupV1("memory", state, "memory.kmem.usage_in_bytes") != nil
        memoryFields =
          [.rss, .cache, .maxUsage] + (kmem ? [.kernelUsage, .kernelMaxUsage] : []) + [.usage]
          + (memoryStat["swap"] != nil ? [.swap] : [])
      }
      for sample in samples {
        let memory = sample.aggResourceUsage.memory
        #expect(memory.measuredFields == memoryFields)
        #expect(memory.rss > 4 << 20, "a JVM's anonymous memory: \(memory.rss)")
        #expect(memory.usage >= memory.rss)
        if memoryFields.contains(.maxUsage) { #expect(memory.maxUsage >= memory.usage) }
        #expect(memory.swap == 0, "milo allows no swap")
      }
      // ...and the values are the cgroup's: compare the last sample with the files now.
      let last = samples[samples.count - 1].aggResourceUsage
      let rssNow = Double(mode == "v2" ? memoryStat["anon"] ?? 0 : memoryStat["total_rss"] ?? 0)
      #expect(abs(Double(last.memory.rss) - rssNow) / rssNow < 0.2, "rss \(last.memory.rss) vs cgroup \(rssNow)")
      if mode != "v2" {
        let maxNow = UInt64(Ops.cgroupV1("memory", state, "memory.max_usage_in_bytes") ?? "") ?? 0
        #expect(last.memory.maxUsage <= maxNow && Double(last.memory.maxUsage) > Double(maxNow) * 0.8)
      }

      // CPU: throttling from the first sample; percentages and ticks need two samples.
      #expect(samples[0].aggResourceUsage.cpu.measuredFields == [.throttledPeriods, .throttledTime])
      let nodeMHz = TaskStatsBuilder.nodeComputeMHz()
      let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
      for sample in samples.dropFirst() {
        let cpu = sample.aggResourceUsage.cpu
        if mode == "v2" {
          #expect(Set(cpu.measuredFields).isSuperset(of: [.percent, .totalTicks, .userMode, .systemMode]))
        } else {
          #expect(
            cpu.measuredFields == [.throttledPeriods, .throttledTime, .percent, .totalTicks, .userMode, .systemMode])
        }
        #expect(cpu.percent >= 0 && cpu.percent < 50, "an idle JVM printing every 200 ms: \(cpu.percent)%")
        #expect(cpu.throttledPeriods == 0, "no quota, no throttling")
        #expect(abs(cpu.totalTicks - cpu.percent / 100 * nodeMHz / cores) < 0.01)
      }
      try #require(samples.count == 6)

      // A caller that goes away leaves nothing behind: many streams opened and abandoned stop
      // sampling. What one live 100 ms stream costs the plugin in read(2) calls per second...
      let live = Task {
        for try await _ in try await runner.stats(interval: .milliseconds(100)) {}
      }
      try await Task.sleep(for: .milliseconds(300))
      let oneStream = try await Ops.readCallsPerSecond(pluginPid)
      live.cancel()
      _ = await live.result
      for _ in 0..<10 {
        for try await _ in try await runner.stats(interval: .milliseconds(100)) { break }
      }
      try await Task.sleep(for: .milliseconds(300))
      // ...and what ten abandoned ones cost: far less than one live one.
      let abandoned = try await Ops.readCallsPerSecond(pluginPid)
      Ops.report("plugin read calls/s: one live 100 ms stream \(oneStream), after 10 abandoned \(abandoned)")
      if Posix.readText("/proc/self/io") != nil {
        #expect(oneStream > 50, "a live stream reads the cgroup: \(oneStream) reads/s")
        #expect(abandoned < oneStream / 2, "abandoned streams still sample: \(abandoned) vs \(oneStream) reads/s")
      } else {
        Ops.report("this kernel has no /proc/<pid>/io (no task I/O accounting): read calls not counted")
      }
      #expect(
        await eventually(timeout: .seconds(5)) { Ops.openDescriptors(pluginPid) <= baselineFDs },
        "plugin descriptors \(Ops.openDescriptors(pluginPid)) > \(baselineFDs)")

      // The stream ends cleanly (no error) when the task exits.
      let collector = Task { () -> (count: Int, error: String?, endedAt: ContinuousClock.Instant) in
        var count = 0
        do {
          for try await _ in try await runner.stats(interval: .milliseconds(200)) { count += 1 }
          return (count, nil, .now)
        } catch {
          return (count, "\(error)", .now)
        }
      }
      try await Task.sleep(for: .milliseconds(700))
      let signalled = ContinuousClock.now
      try await runner.signal("SIGTERM")
      let final = await runner.waitUntilDone()
      let ended = await collector.value
      #expect(ended.error == nil, "the stream failed: \(ended.error ?? "")")
      #expect(ended.count >= 3)
      #expect(ended.endedAt - signalled < .seconds(3), "the stream outlived the task by \(ended.endedAt - signalled)")
      #expect(final.lastExitCode == 143, "\(final.summary)")

    }
  }

  // MARK: - SignalTask

  @Test func signalsReachTheJVMInItsContainer() async throws {
    try await withMiloHarness("signals") { harness in
      let (alloc, runner) = try await harness.run(MiloHarness.testAppTask(["signals"]))
      let state = try await Ops.started(harness, alloc, runner, log: "signal handlers ready")
      let banner = try await harness.waitForLog(alloc, containing: "signal handlers ready")
      #expect(banner == "handling SIGHUP\nhandling SIGUSR1\nhandling SIGUSR2\nsignal handlers ready\n")

      for name in ["SIGHUP", "SIGUSR1", "SIGUSR2"] {
        try await runner.signal(name)
        let log = try await harness.waitForLog(alloc, containing: "got \(name)\n", timeout: .seconds(10))
        #expect(log.contains("got \(name)\n"), "\(name) did not reach the application: \(log.suffix(200))")
      }
      // SIGQUIT: the JVM's own handler prints a thread dump on stdout and keeps running.
      try await runner.signal("SIGQUIT")
      let dump = try await harness.waitForLog(alloc, containing: "JNI global refs", timeout: .seconds(10))
      #expect(dump.contains("Full thread dump OpenJDK 64-Bit Server VM"))
      #expect(dump.contains("\"main\" #1 prio=5"))
      #expect(dump.contains("at milo.TestApp.signals(TestApp.java"))
      #expect(await runner.taskState.state == .running)
      #expect(kill(state.containerPid, 0) == 0, "the JVM is still alive")

      // An unknown name is an InvalidArgument error that says what is expected.
      let error = await #expect(throws: PluginCallError.self) { try await runner.signal("SIGFOO") }
      #expect(error?.code == .invalidArgument)
      #expect(
        error?.description
          == "rpc error: code = InvalidArgument desc = unknown signal \"SIGFOO\": expected a name such as SIGHUP, SIGINT, SIGTERM, SIGUSR1 or SIGQUIT"
      )

      // What `nomad alloc status` shows: Nomad's Signaling event, then milo's confirmation.
      let events = await runner.taskState.events.map { "\($0.type): \($0.displayMessage)" }
      for name in ["SIGHUP", "SIGUSR1", "SIGUSR2", "SIGQUIT"] {
        let signaling = events.firstIndex(of: "Signaling: Task being sent signal \(name)")
        let delivered = events.firstIndex(of: "Driver: Sent \(name) to the application")
        #expect(signaling != nil && delivered != nil && signaling! < delivered!, "\(events)")
      }
      #expect(!events.contains { $0.contains("SIGFOO") && $0.hasPrefix("Driver") })

    }
  }

  /// `milo init` is the container's first process and forwards every signal, so the JVM is an
  /// ordinary process as under Nomad's java driver: a signal it has no handler for (SIGUSR1)
  /// terminates it, and the exit shows that signal exactly (exit code 128+10, signal 10).
  @Test func anUnhandledSignalEndsTheJVMAsUnderTheJavaDriver() async throws {
    try await withMiloHarness("sigusr1") { harness in
      let (alloc, runner) = try await harness.run(MiloHarness.testAppTask(["serve", "200"]))
      let state = try await Ops.started(harness, alloc, runner, log: "Processing...")
      let initDisposition = try #require(SignalDisposition.read(pid: state.containerPid))
      #expect(initDisposition.isNamespaceInit, "milo init is PID 1 in the container")
      #expect(!initDisposition.discards(SIGUSR1) && !initDisposition.discards(SIGHUP))
      let jvm = try #require(Ops.liveProcessesInPidNamespace(of: state.containerPid).first { $0.name == "java" })
      #expect(Ops.parentPid(jvm.pid) == state.containerPid)
      #expect(SignalDisposition.read(pid: jvm.pid)?.innermostPid == 2)

      // SIGSTOP cannot be forwarded by an init: it reaches the JVM directly, and SIGCONT resumes it.
      try await runner.signal("SIGSTOP")
      #expect(await eventually(timeout: .seconds(5)) { Ops.processState(jvm.pid) == "T" }, "the JVM is stopped")
      #expect(Ops.processState(state.containerPid) != "T", "milo init keeps running")
      try await runner.signal("SIGCONT")
      #expect(await eventually(timeout: .seconds(5)) { Ops.processState(jvm.pid) != "T" }, "the JVM runs again")

      try await runner.signal("SIGUSR1")
      let final = await runner.waitUntilDone()
      let terminated = final.events.last { $0.type == TaskEvent.Kind.terminated }
      #expect(terminated?.exitCode == 138, "\(final.summary)")
      #expect(terminated?.signal == 10, "the JVM was killed by SIGUSR1: \(final.summary)")
      #expect(final.failed, "an app killed by a signal has failed")
      // A task that is gone cannot be signalled.
      await #expect(throws: TaskNotRunningError.self) { try await runner.signal("SIGHUP") }
    }
  }

  /// When task users cannot execute the milo binary (mode 0700), containers run without
  /// `milo init` and the JVM is PID 1: the kernel would discard a signal it has no handler for,
  /// so milo refuses it with an explanation instead of reporting it sent. Handled signals work.
  @Test func withoutTheInitASignalTheKernelWouldDiscardIsRefused() async throws {
    let dir = Fixtures.temporaryDirectory("private-milo")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let binary = dir + "/milo"
    try FileManager.default.copyItem(atPath: Fixtures.miloBinary, toPath: binary)
    try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: binary)
    try await withMiloHarness("sigpid1", binary: binary) { harness in
      let (alloc, runner) = try await harness.run(MiloHarness.testAppTask(["serve", "200"]))
      let state = try await Ops.started(harness, alloc, runner, log: "Processing...")
      let disposition = try #require(SignalDisposition.read(pid: state.containerPid))
      #expect(disposition.isNamespaceInit, "the JVM is PID 1 in the container")
      #expect(Ops.processesInPidNamespace(of: state.containerPid).map(\.name) == ["java"])
      #expect(disposition.discards(SIGUSR1) && !disposition.discards(SIGHUP))
      // `nomad alloc status` says why, and what to do.
      let warned = await eventually(timeout: .seconds(5)) {
        await runner.taskState.events.contains {
          $0.displayMessage
            == "The JVM is the container's first process, so signals it has no handler for are discarded: "
            + "\(binary) is not executable by other users; make it mode 0755"
        }
      }
      #expect(warned)

      let error = await #expect(throws: PluginCallError.self) { try await runner.signal("SIGUSR1") }
      #expect(error?.code == .failedPrecondition)
      #expect(
        error?.description.contains("SIGUSR1 was not sent: the JVM runs as PID 1") == true,
        "\(String(describing: error))")
      try await Task.sleep(for: .milliseconds(500))
      #expect(await runner.taskState.state == .running)

      try await runner.signal("SIGHUP")
      let final = await runner.waitUntilDone()
      let terminated = final.events.last { $0.type == TaskEvent.Kind.terminated }
      #expect(terminated?.exitCode == 129, "the JVM's SIGHUP handler exits 128+1: \(final.summary)")
      #expect(terminated?.signal == 0)
      let stdout = try await harness.logs(alloc)
      #expect(Ops.string(stdout).hasSuffix("Processing...\nShutting down\n"), "\(Ops.string(stdout).suffix(80))")
    }
  }

  // MARK: - TaskEvents

  @Test func taskEventsArriveForTheRightTaskAndTheStreamLivesWithThePlugin() async throws {
    try await withMiloHarness("events") { harness in
      let manager = try await harness.driver
      let java = try #require(manager.fingerprints.latest?.attributes)
      for round in 0..<2 {
        let (alloc, runner) = try await harness.run(MiloHarness.testAppTask(["serve", "200"]))
        let state = try await Ops.started(harness, alloc, runner, log: "Processing...")
        let taskID = try #require(await runner.currentTaskID)
        let javaMessage =
          "Using Java \(java["driver.milo.java.version"] ?? "") (\(java["driver.milo.java.vendor"] ?? "")) from \(java["driver.milo.java.home"] ?? "")"
        let containerMessage = "Container \(state.containerID) started (pid \(state.containerPid))"
        #expect(
          await eventually(timeout: .seconds(5)) {
            await manager.receivedTaskEvents.filter { $0.taskID == taskID }.count >= 2
          })
        let mine = await manager.receivedTaskEvents.filter { $0.taskID == taskID }
        #expect(mine.map(\.message) == [javaMessage, containerMessage], "round \(round)")
        #expect(mine.allSatisfy { $0.allocID == alloc.allocID && $0.taskName == "java-app" })
        #expect(
          mine.first?.annotations == [
            "java_home": java["driver.milo.java.home"] ?? "", "java_version": java["driver.milo.java.version"] ?? "",
          ])
        let window = Date().addingTimeInterval(-60)...Date()
        #expect(mine.allSatisfy { window.contains($0.timestamp.date) })
        // The task runner shows them as Nomad's "Driver" events.
        let shown = await runner.taskState.events.filter { $0.type == TaskEvent.Kind.driverMessage }.map(
          \.displayMessage)
        #expect(shown == [javaMessage, containerMessage])
        let types = await runner.taskState.events.map(\.type)
        #expect(
          types.filter { $0 != TaskEvent.Kind.driverMessage }
            == [
              TaskEvent.Kind.received, TaskEvent.Kind.setup, TaskEvent.Kind.downloadingArtifacts,
              TaskEvent.Kind.started,
            ])
        _ = await alloc.stop()
      }
      // Other tasks' events never reach a runner; the one stream served both tasks.
      #expect(await manager.taskEventStreamOpens == 1)
      #expect(await manager.dispenseCount == 1)
      let allocIDs = Set(await manager.receivedTaskEvents.map(\.allocID))
      #expect(allocIDs == Set(harness.allocs.map(\.allocID)))
    }
  }

  // MARK: - nomad-host CLI

  @Test func nomadHostStatsSignalAndExecAgainstARunningAgent() async throws {
    let cli = Fixtures.repoRoot + "/.build/debug/nomad-host"
    try #require(FileManager.default.isExecutableFile(atPath: cli), "build it: swift build --product nomad-host")
    let dir = Fixtures.temporaryDirectory("cli")
    let stateDir = "/run/milo-it-cli-\(UUID().uuidString.prefix(6))"
    defer {
      try? FileManager.default.removeItem(atPath: dir)
      try? FileManager.default.removeItem(atPath: stateDir)
    }
    let job = """
      {"Job": {"ID": "cli", "Name": "cli", "Type": "service", "TaskGroups": [{"Name": "app",
        "RestartPolicy": {"Attempts": 0, "Mode": "fail"},
        "Tasks": [{"Name": "java-app", "Driver": "milo",
          "Config": {"jvm_options": ["-Xmx64m"], "args": ["signals"]},
          "Artifacts": [{"GetterSource": "\(Fixtures.testAppJar)", "RelativeDest": "local/"}],
          "Resources": {"CPU": 500, "MemoryMB": 256}, "KillTimeout": "5s"}]}]}}
      """
    Fixtures.write(job, to: dir + "/job.json")
    Fixtures.write("{\"milo\": {\"config\": {\"state_dir\": \"\(stateDir)\"}}}", to: dir + "/plugins.json")
    let agent = Process()
    agent.executableURL = URL(fileURLWithPath: cli)
    agent.arguments = [
      "run", dir + "/job.json", "--plugin", Fixtures.miloBinary, "--plugin-config", dir + "/plugins.json",
      "--data-dir", dir + "/data", "--plugin-log-level", "off", "--log-level", "warn",
    ]
    agent.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
    agent.standardError = FileHandle(forWritingAtPath: "/dev/null")
    try agent.run()
    defer {
      // However the test ends, stop the job like Ctrl-C so no container is left.
      if agent.isRunning {
        kill(agent.processIdentifier, SIGINT)
        let deadline = Date().addingTimeInterval(20)
        while agent.isRunning && Date() < deadline { usleep(50_000) }
        if agent.isRunning { kill(agent.processIdentifier, SIGKILL) }
      }
    }

    func nomadHost(_ args: [String], stdin: String? = nil) throws -> (code: Int32, out: String, err: String) {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: cli)
      process.arguments = args
      let out = Pipe()
      let err = Pipe()
      let input = Pipe()
      process.standardOutput = out
      process.standardError = err
      process.standardInput = input
      try process.run()
      if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
      try input.fileHandleForWriting.close()
      let output = out.fileHandleForReading.readDataToEndOfFile()
      let errors = err.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      return (
        process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: errors, as: UTF8.self)
      )
    }
    let data = ["--data-dir", dir + "/data"]
    func stdoutLog() -> String {
      let allocs = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/data/alloc")) ?? []
      return allocs.compactMap { Posix.readText(dir + "/data/alloc/\($0)/alloc/logs/java-app.stdout.0") }.joined()
    }
    let running = await eventually(timeout: .seconds(40), every: .milliseconds(250)) {
      let status = (try? nomadHost(["status"] + data))?.out ?? ""
      return status.contains("running") && stdoutLog().contains("signal handlers ready")
    }
    try #require(running, "the agent's task did not start")

    // stats: human lines, or raw TaskStats JSON.
    let stats = try nomadHost(["stats"] + data + ["java-app", "--count", "2", "--interval-ms", "300"])
    #expect(stats.code == 0, "\(stats.err)")
    let lines = stats.out.split(separator: "\n")
    #expect(lines.count == 2)
    #expect(lines.allSatisfy { $0.contains("memory: rss ") && $0.contains("usage") && $0.contains("cpu: ") })
    #expect(lines.first?.contains("cpu: throttled 0 periods") == true, "\(stats.out)")
    #expect(lines.last?.contains("MHz, throttled 0 periods") == true, "\(stats.out)")
    let raw = try nomadHost(["stats"] + data + ["java-app", "--json"])
    let parsed = try JSONValue.parse(raw.out.trimmingCharacters(in: .whitespacesAndNewlines))
    #expect(parsed["id"]?.stringValue?.contains("/java-app/") == true)
    #expect(parsed["aggResourceUsage"]?["memory"]?["measuredFields"]?.arrayValue?.isEmpty == false)

    // signal: delivered to the JVM; an unknown name fails with the driver's message.
    let signal = try nomadHost(["signal"] + data + ["java-app", "SIGUSR1"])
    #expect(signal.code == 0)
    #expect(signal.out == "Sent SIGUSR1 to task java-app\n")
    #expect(
      await eventually(timeout: .seconds(5)) { stdoutLog().contains("got SIGUSR1") })
    let bad = try nomadHost(["signal"] + data + ["java-app", "SIGNOPE"])
    #expect(bad.code == 1)
    #expect(bad.err.contains("code = InvalidArgument desc = unknown signal \"SIGNOPE\""), "\(bad.err)")

    // exec: ExecTask, and ExecTaskStreaming with stdin (-i) and a terminal (-t).
    let hi = try nomadHost(["exec"] + data + ["java-app", "--", "/bin/sh", "-c", "echo hi; echo oops >&2; exit 3"])
    #expect(hi.code == 3)
    #expect(hi.out == "hi\n")
    #expect(hi.err == "oops\n")
    let cat = try nomadHost(["exec", "-i"] + data + ["java-app", "--", "cat"], stdin: "one\ntwo\n")
    #expect(cat.code == 0)
    #expect(cat.out == "one\ntwo\n")
    let tty = try nomadHost(["exec", "-t"] + data + ["java-app", "--", "tty"])
    #expect(tty.code == 0, "\(tty.err)")
    #expect(tty.out.range(of: #"^/dev/pts/[0-9]+\r\n$"#, options: .regularExpression) != nil, "\(tty.out)")
    let missing = try nomadHost(["exec", "-i"] + data + ["java-app", "--", "nosuch"], stdin: "")
    #expect(missing.code == 127)
    #expect(missing.err == "executable file `nosuch` not found in $PATH: No such file or directory\n")

    // Ctrl-C stops the job; nothing is left.
    kill(agent.processIdentifier, SIGINT)
    let exited = await eventually(timeout: .seconds(20)) { !agent.isRunning }
    #expect(exited)
    let allocIDs = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/data/alloc")) ?? []
    #expect(allocIDs.count == 1)
    let residue = HostResidue.scan(stateDir: stateDir, allocIDs: allocIDs)
    #expect(residue.isEmpty, "\(residue)")
    #expect(Ops.runtimeExecProcesses(stateDir: stateDir).isEmpty)
  }
}
