import Foundation
import MiloSupervisor
import NomadHost
import NomadPlugin
import Testing

/// Issue 3: JARs run in crun containers through the whole task lifecycle.
@Suite(.serialized, .enabled(if: Fixtures.canRunContainers, "needs root, crun, a JDK and the milo binary"))
struct LifecycleTests {
  @Test func helloWorldExitsZeroWithExactlyItsTwoLines() async throws {
    try await withMiloHarness("hello") { harness in
      let (alloc, runner) = try await harness.run(MiloHarness.testAppTask(["hello"]), type: .batch)
      let final = await runner.waitUntilDone()
      #expect(final.state == .dead)
      #expect(!final.failed, "\(final.summary)")
      #expect(final.lastExitCode == 0)
      let stdout = String(decoding: try await harness.logs(alloc), as: UTF8.self)
      #expect(stdout == "Hello from milo\nGoodbye from milo\n")
      let stderr = try await harness.logs(alloc, type: .stderr)
      #expect(stderr.isEmpty, "\(String(decoding: stderr, as: UTF8.self))")
      #expect(harness.residue().isEmpty, "\(harness.residue())")
    }
  }

  @Test func exitCodeIsReported() async throws {
    try await withMiloHarness("exit42") { harness in
      let (alloc, runner) = try await harness.run(MiloHarness.testAppTask(["exit", "42"]), type: .batch)
      let final = await runner.waitUntilDone()
      let terminated = final.events.first { $0.type == TaskEvent.Kind.terminated }
      #expect(terminated?.exitCode == 42)
      #expect(terminated?.displayMessage == "Exit Code: 42")
      #expect(final.failed, "a batch task exiting 42 with no restarts left fails, as in Nomad")
      #expect(harness.residue().isEmpty, "\(harness.residue())")
    }
  }

  @Test func sigintStopsALongRunningJarWellWithinTheTimeout() async throws {
    try await withMiloHarness("sigint") { harness in
      let (alloc, runner) = try await harness.run(
        MiloHarness.testAppTask(["serve", "200"], killTimeout: .seconds(10)))
      _ = try await harness.waitForLog(alloc, containing: "Processing...")
      let started = ContinuousClock.now
      let final = await alloc.stop()["java-app"] ?? NomadHost.TaskState()
      let took = ContinuousClock.now - started
      #expect(took < .seconds(3), "stop took \(took)")
      #expect(final.state == .dead)
      #expect(!final.failed, "\(final.summary)")
      // The JVM ran its shutdown hook: SIGINT reached it, not SIGKILL.
      #expect(final.events.first { $0.type == TaskEvent.Kind.terminated }?.exitCode == 130)
      let stdout = String(decoding: try await harness.logs(alloc), as: UTF8.self)
      #expect(stdout.hasSuffix("Shutting down\n"), "\(stdout.suffix(80))")
      _ = runner
      #expect(harness.residue().isEmpty, "\(harness.residue())")
    }
  }

  /// A stop as soon as the task runs, before the JVM has set up its handlers: the stop signal
  /// reaches the JVM (its default action or its handler: exit 143) and the task is never left to
  /// the SIGKILL at the kill timeout. (The supervisor also waits, before signalling, until
  /// `milo init` blocks the signal, as the kernel discards a signal to a namespace's init that
  /// neither blocks nor handles it; on this machine the init is always ready by the time
  /// StartTask has returned, so this test does not reach that window.)
  @Test func aStopRightAfterTheStartIsNotLost() async throws {
    try await withMiloHarness("early-stop") { harness in
      for round in 0..<3 {
        let (alloc, runner) = try await harness.run(
          MiloHarness.testAppTask(["serve", "200"], killTimeout: .seconds(20), killSignal: "SIGTERM"))
        let running = await runner.waitForState(timeout: .seconds(30)) { $0.state == .running }
        #expect(running?.state == .running, "round \(round)")
        let final = await alloc.stop()["java-app"] ?? NomadHost.TaskState()
        let terminated = final.events.first { $0.type == TaskEvent.Kind.terminated }
        #expect(final.state == .dead)
        #expect(terminated?.signal != 9 && terminated?.exitCode != 137, "round \(round): \(final.summary)")
        #expect(
          terminated?.exitCode == 143,
          "SIGTERM: the JVM's handler or the default action, round \(round): \(final.summary)")
        await alloc.destroy(removeFiles: true)
      }
      #expect(harness.residue().isEmpty, "\(harness.residue())")
    }
  }

  @Test func aJarIgnoringSigintIsKilledAtTheTimeout() async throws {
    try await withMiloHarness("ignoreint") { harness in
      let (alloc, _) = try await harness.run(MiloHarness.testAppTask(["ignore-int"], killTimeout: .seconds(2)))
      _ = try await harness.waitForLog(alloc, containing: "running and ignoring SIGINT")
      let started = ContinuousClock.now
      let final = await alloc.stop()["java-app"] ?? NomadHost.TaskState()
      let took = ContinuousClock.now - started
      #expect(took >= .seconds(2) && took < .seconds(5), "stop took \(took)")
      let terminated = final.events.first { $0.type == TaskEvent.Kind.terminated }
      #expect(terminated?.exitCode == 137)
      #expect(terminated?.signal == 9)
      #expect(!final.failed)
      let stdout = String(decoding: try await harness.logs(alloc), as: UTF8.self)
      #expect(stdout.contains("ignoring SIGINT"), "the JVM saw SIGINT first")
      #expect(harness.residue().isEmpty, "\(harness.residue())")
    }
  }

  @Test func aJarOverItsMemoryLimitIsReportedOOMKilled() async throws {
    try await withMiloHarness("oom") { harness in
      let task = MiloHarness.testAppTask(
        ["oom"], jvmOptions: ["-Xmx512m", "-XX:-UseContainerSupport"],
        resources: ResourcesSpec(cpu: 500, memoryMB: 96))
      let (alloc, runner) = try await harness.run(task, type: .batch)
      let final = await runner.waitUntilDone()
      let terminated = final.events.first { $0.type == TaskEvent.Kind.terminated }
      #expect(terminated?.oomKilled == true, "\(final.summary)")
      #expect(terminated?.signal == 9)
      let driverEvents = await (try harness.driver).receivedTaskEvents.map(\.message)
      #expect(driverEvents.contains { $0.contains("OOM-killed") }, "\(driverEvents)")
      #expect(harness.residue().isEmpty, "\(harness.residue())")
    }
  }

  @Test func aKilledPluginIsReplacedAndTheTaskRecovered() async throws {
    try await withMiloHarness("recover") { harness in
      let (alloc, runner) = try await harness.run(
        MiloHarness.testAppTask(["sleep-exit", "6000", "7"]), type: .batch)
      _ = try await harness.waitForLog(alloc, containing: "sleeping")
      let manager = try await harness.driver
      let before = try #require(await manager.currentInstance)
      let oldPid = before.pid
      await manager.killPlugin(graceful: false)
      // Nomad notices the dead plugin, starts a new one and calls RecoverTask.
      let recovered = await runner.waitForState(timeout: .seconds(10)) { _ in true }
      #expect(recovered?.state == .running)
      try await Task.sleep(for: .seconds(1))
      let after = try #require(await manager.currentInstance)
      #expect(after.pid != oldPid)
      #expect(kill(oldPid, 0) != 0)
      #expect(await runner.taskState.state == .running, "the task keeps running while the plugin is replaced")
      let final = await runner.waitUntilDone()
      #expect(final.events.last { $0.type == TaskEvent.Kind.terminated }?.exitCode == 7, "\(final.summary)")
      let stdout = String(decoding: try await harness.logs(alloc), as: UTF8.self)
      #expect(stdout == "sleeping 6000 ms\nexiting with 7\n")
      #expect(harness.residue().isEmpty, "\(harness.residue())")
    }
  }

  @Test func fiftyStartStopCyclesLeaveNothingBehind() async throws {
    try await withMiloHarness("cycles") { harness in
      for cycle in 0..<50 {
        let (alloc, runner) = try await harness.run(MiloHarness.testAppTask(["serve", "100"]))
        let running = await runner.waitForState(timeout: .seconds(30)) { $0.state == .running }
        #expect(running != nil, "cycle \(cycle) never ran")
        let final = await alloc.stop()["java-app"]
        #expect(final?.state == .dead && final?.failed == false, "cycle \(cycle): \(final?.summary ?? "-")")
        await alloc.destroy(removeFiles: true)
      }
      let residue = harness.residue()
      #expect(residue.isEmpty, "\(residue)")
      #expect(HostResidue.scan(stateDir: harness.stateDir, allocIDs: [], fifoRoot: harness.dataDir).fifos.isEmpty)
      let tasks = (try? FileManager.default.contentsOfDirectory(atPath: harness.stateDir + "/tasks")) ?? []
      #expect(tasks.isEmpty, "task state dirs left: \(tasks)")
      // crun leaves the shared /milo parent behind; the last task to end removes it.
      let emptyParents = HostResidue.emptyCgroupParents(runtimeRoot: harness.stateDir + "/runtime")
      #expect(emptyParents.isEmpty, "empty cgroup parents left: \(emptyParents)")
    }
  }
}
