import Foundation
import NomadPlugin
import Testing

@testable import NomadHost

/// End-to-end behaviour of the loader, driver manager and task runner against the fake plugin.
@Suite(.serialized) struct AgentLifecycleTests {
  /// A fake plugin host and a data dir for `body`; the host is cleaned up however `body` ends.
  private func withHost<T>(_ body: (FakePluginHost, TempDir) async throws -> T) async throws -> T {
    let host = try FakePluginHost()
    defer { host.cleanup() }
    return try await body(host, TempDir("nomadhost"))
  }

  /// A started agent on `host`'s plugin and `data` for `body`; shut down however `body` ends.
  private func withAgent<T>(
    _ host: FakePluginHost, data: TempDir, _ body: (NomadAgent) async throws -> T
  ) async throws -> T {
    var config = ClientConfig(dataDir: data.path)
    config.mountTmpfs = false
    config.bindMountAllocDir = false
    config.hostEnvironment = ["PATH": "/usr/bin"]
    let agent = NomadAgent(config: config, plugins: [PluginSpec(path: host.stub)])
    let result: Result<T, any Error>
    do {
      try await agent.start(fingerprintTimeout: .seconds(10))
      result = .success(try await body(agent))
    } catch {
      result = .failure(error)
    }
    await agent.shutdown()
    return try result.get()
  }

  /// A started agent on a fresh host and data dir: what most tests need.
  private func withAgent<T>(_ body: (NomadAgent, FakePluginHost) async throws -> T) async throws -> T {
    try await withHost { host, data in try await withAgent(host, data: data) { try await body($0, host) } }
  }

  /// Runs `alloc` in the background, gives `body` the runner of its task "web" once started,
  /// then stops the alloc however `body` ends; returns `body`'s value and the final states.
  private func whileRunning<T>(
    _ alloc: AllocRunner, sourceLocation: SourceLocation = #_sourceLocation, _ body: (TaskRunner) async throws -> T
  ) async throws -> (value: T, final: [String: NomadHost.TaskState]) {
    let run = Task { await alloc.run() }
    let result: Result<T, any Error>
    do {
      let runner = try #require(await alloc.taskRunner(named: "web"), sourceLocation: sourceLocation)
      let started = await runner.waitForEvent(TaskEvent.Kind.started, timeout: .seconds(10))
      try #require(started != nil, "task web did not start", sourceLocation: sourceLocation)
      result = .success(try await body(runner))
    } catch {
      result = .failure(error)
    }
    let final = await alloc.stop()
    _ = await run.value
    return (try result.get(), final)
  }

  private func job(
    config: [String: MsgpackValue]? = ["command": "run"], type: JobSpec.JobType = .service,
    restart: RestartPolicySpec = RestartPolicySpec(
      attempts: 0, interval: .seconds(60), delay: .milliseconds(50), mode: .fail)
  ) -> JobSpec {
    let task = TaskSpec(
      name: "web", driver: "fake", config: config, killTimeout: .seconds(2), killSignal: "SIGTERM")
    return JobSpec(id: "demo", type: type, groups: [GroupSpec(name: "app", restartPolicy: restart, tasks: [task])])
  }

  private func types(_ state: NomadHost.TaskState) -> [String] { state.events.map(\.type) }

  @Test func agentStartIsNomadsThreeLaunches() async throws {
    try await withHost { host, data in
      let launches = try await withAgent(host, data: data) { agent in
        let launches = host.launches
        try #require(launches.count == 3)
        #expect(host.driver.methods(launches[0]) == ["PluginInfo", "ConfigSchema", "Shutdown"])
        #expect(host.driver.methods(launches[1]) == ["SetConfig", "SetConfig", "Shutdown"])
        let setConfigs = host.driver.calls.withLock { $0.filter { $0.method == "SetConfig" }.map(\.detail) }
        #expect(setConfigs == ["no nomad_config", "no nomad_config", "nomad_config 14000-14512"])
        #expect(await eventually { host.driver.methods(launches[2]).contains("TaskEvents") })
        let third = host.driver.methods(launches[2])
        #expect(Array(third.prefix(2)) == ["SetConfig", "Init"])
        #expect(third.contains("Fingerprint"))
        // The first two processes are gone.
        #expect(await eventually { kill(launches[0], 0) != 0 && kill(launches[1], 0) != 0 })
        let manager = try #require(await agent.driverManager("fake"))
        #expect(manager.fingerprints.latest?.healthy == true)
        #expect(manager.fingerprints.latest?.attributes["driver.fake"] == "true")
        return launches
      }
      // After the agent's shutdown.
      #expect(host.driver.methods(launches[2]).suffix(2) == ["DriverShutdown", "Shutdown"])
    }
  }

  @Test func startThenStopLikeNomad() async throws {
    try await withAgent { agent, host in
      let alloc = try #require(try await agent.submit(job()).first)
      let (taskID, final) = try await whileRunning(alloc) { runner in
        let started = try #require(host.driver.calls.withLock { $0.first { $0.method == "StartTask" } })
        let taskID = started.detail
        let config = try #require(host.driver.task(taskID)?.config)
        #expect(taskID.hasPrefix("\(alloc.allocID)/web/"))
        #expect(config.stdoutPath == "\(alloc.allocDir.logDir)/.web.stdout.fifo")
        #expect(config.env["NOMAD_TASK_NAME"] == "web")
        #expect(config.env["NOMAD_TASK_DIR"] == "/local")  // image isolation
        #expect(try MsgpackDecoder().decode([UInt8](config.msgpackDriverConfig)) == ["args": .nil, "command": "run"])
        // The handle is persisted.
        let persisted = try TaskStateStore(allocDir: alloc.allocDir).loadTask("web")
        #expect(persisted.taskHandle?.config.id == taskID)
        #expect(persisted.taskHandle?.driverState == Data("state-\(taskID)".utf8))
        // Signal, exec, stats.
        try await runner.signal("SIGHUP")
        #expect(host.driver.methods().contains("SignalTask"))
        let exec = try await runner.exec(["echo", "hi"])
        #expect(String(decoding: exec.stdout, as: UTF8.self) == "echo hi")
        var statsCount = 0
        for try await stats in try await runner.stats(interval: .milliseconds(50)) {
          #expect(stats.aggResourceUsage.memory.rss == 1234)
          statsCount += 1
          if statsCount == 2 { break }
        }
        let (input, feed) = AsyncStream<ExecStreamInput>.makeStream()
        feed.yield(.stdin(bytes("ping")))
        feed.yield(.closeStdin)
        let echoed = Collected()
        let result = try await runner.execStreaming(["cat"], tty: false, input: input) { output in
          if case .stdout(let data) = output { await echoed.append(data) }
        }
        #expect(result.exitCode == 0)
        #expect(await echoed.text == "ping")
        return taskID
      }
      let state = try #require(final["web"])
      #expect(
        types(state) == [
          "Received", "Task Setup", "Started", "Signaling", "Killing", "Terminated", "Killed",
        ])
      #expect(
        state.events.first { $0.type == "Killing" }?.displayMessage
          == "Sent interrupt. Waiting 2s before force killing")
      #expect(state.events.first { $0.type == "Terminated" }?.displayMessage == "Exit Code: 130")
      #expect(state.state == .dead && !state.failed)
      let stop = host.driver.calls.withLock { $0.first { $0.method == "StopTask" } }
      #expect(stop?.detail == "\(taskID) 2s SIGTERM")
      let destroy = host.driver.calls.withLock { $0.last { $0.method == "DestroyTask" } }
      #expect(destroy?.detail == "\(taskID) force=true")
    }
  }

  @Test func missingConfigFailsValidationWithoutCallingTheDriver() async throws {
    try await withAgent { agent, host in
      let restart = RestartPolicySpec(attempts: 2, interval: .seconds(60), delay: .milliseconds(50), mode: .fail)
      let alloc = try #require(try await agent.submit(job(config: nil, restart: restart)).first)
      let state = try #require(await alloc.run()["web"])
      #expect(types(state) == ["Received", "Task Setup", "Failed Validation", "Not Restarting"])
      #expect(
        state.events[2].displayMessage.hasPrefix(
          "2 errors occurred:\n\t* failed to parse config: \n\t* Root value must be object"))
      #expect(state.events[3].displayMessage == "Error was unrecoverable")
      #expect(state.failed && state.state == .dead)
      #expect(!host.driver.methods().contains("StartTask"))
    }
  }

  @Test func startErrorsFollowRecoverability() async throws {
    try await withAgent { agent, host in
      let restart = RestartPolicySpec(attempts: 1, interval: .seconds(60), delay: .milliseconds(50), mode: .fail)

      host.driver.knobs.withLock { $0.startError = (.invalidArgument, "bad jar", false) }
      let fatal = try #require(await (try await agent.submit(job(restart: restart))).first?.run()["web"])
      #expect(types(fatal) == ["Received", "Task Setup", "Driver Failure", "Not Restarting"])
      #expect(fatal.events[2].displayMessage == "rpc error: code = InvalidArgument desc = bad jar")
      #expect(fatal.events[3].displayMessage == "Error was unrecoverable")

      host.driver.knobs.withLock { $0.startError = (.unavailable, "java busy", true) }
      let retried = try #require(await (try await agent.submit(job(restart: restart))).first?.run()["web"])
      #expect(
        types(retried) == [
          "Received", "Task Setup", "Driver Failure", "Restarting", "Driver Failure", "Not Restarting",
        ])
      #expect(retried.events[2].displayMessage == "rpc error: code = FailedPrecondition desc = java busy")
      #expect(
        retried.events[5].displayMessage == "Exceeded allowed attempts 1 in interval 1m0s and mode is \"fail\"")
      #expect(retried.restarts == 1 && retried.failed)
    }
  }

  @Test func exitsFollowTheRestartPolicyWithNewTaskIDs() async throws {
    try await withAgent { agent, host in
      host.driver.knobs.withLock {
        $0.exitCode = 3
        $0.exitAfter = .milliseconds(100)
      }
      let restart = RestartPolicySpec(attempts: 1, interval: .seconds(60), delay: .milliseconds(50), mode: .fail)
      let state = try #require(await (try await agent.submit(job(restart: restart))).first?.run()["web"])
      #expect(
        types(state) == [
          "Received", "Task Setup", "Started", "Terminated", "Restarting", "Started", "Terminated", "Not Restarting",
        ])
      #expect(state.events[3].displayMessage == "Exit Code: 3")
      let ids = host.driver.calls.withLock { $0.filter { $0.method == "StartTask" }.map(\.detail) }
      #expect(ids.count == 2 && ids[0] != ids[1])
      let destroys = host.driver.calls.withLock { $0.filter { $0.method == "DestroyTask" }.map(\.detail) }
      #expect(destroys == ids.map { "\($0) force=true" })

      // A batch job that succeeds is dead and not failed.
      host.driver.knobs.withLock { $0.exitCode = 0 }
      let batch = try #require(
        await (try await agent.submit(job(type: .batch, restart: restart))).first?.run()["web"])
      #expect(types(batch) == ["Received", "Task Setup", "Started", "Terminated"])
      #expect(!batch.failed && batch.state == .dead)
    }
  }

  // Disabled: in one of several runs the test process aborted inside grpc-swift-nio-transport
  // ("Deinited NIOAsyncWriter without calling finish()") while the in-process fake plugin's
  // connection was torn down. Recovery after a plugin SIGKILL is covered against the real milo
  // binary by IntegrationTests.LifecycleTests.aKilledPluginIsReplacedAndTheTaskRecovered.
  @Test(.disabled("aborts the test process intermittently inside NIO; see the comment"))
  func pluginCrashIsRecoveredWithRecoverTask() async throws {
    try await withAgent { agent, host in
      let manager = try #require(await agent.driverManager("fake"))
      let alloc = try #require(try await agent.submit(job()).first)
      let (_, final) = try await whileRunning(alloc) { runner in
        let taskID = try #require(await runner.currentTaskID)
        let crashed = try #require(await manager.currentInstance)
        await manager.killPlugin(graceful: false)
        #expect(crashed.process.exitStatus == .signaled(SIGKILL))
        // The task runner notices, dispenses a new instance and recovers the task on it.
        #expect(await eventually(timeout: .seconds(15)) { host.driver.methods().contains("RecoverTask") })
        #expect(await eventually { await manager.dispenseCount == 2 })
        let recover = host.driver.calls.withLock { $0.first { $0.method == "RecoverTask" } }
        #expect(recover?.detail == taskID)
        #expect(recover?.pid == host.launches.last)
        #expect(await runner.currentTaskID == taskID)
        // Fingerprints resume on the new instance.
        #expect(await eventually { manager.fingerprints.latest?.healthy == true })
      }
      let state = try #require(final["web"])
      #expect(types(state) == ["Received", "Task Setup", "Started", "Killing", "Terminated", "Killed"])
      let stop = host.driver.calls.withLock { $0.first { $0.method == "StopTask" } }
      #expect(stop?.pid == host.launches.last)
    }
  }

  @Test func driverEventsBecomeTaskEvents() async throws {
    try await withAgent { agent, host in
      let alloc = try #require(try await agent.submit(job()).first)
      _ = try await whileRunning(alloc) { runner in
        var event = DriverTaskEventProto()
        event.allocID = alloc.allocID
        event.taskName = "web"
        event.message = "Pulling image"
        event.annotations = ["image": "x"]
        host.driver.events.publish(event)
        let driverEvent = await runner.waitForEvent(TaskEvent.Kind.driverMessage, timeout: .seconds(5))
        #expect(driverEvent?.displayMessage == "Pulling image")
        #expect(driverEvent?.details == ["image": "x"])
      }
    }
  }

  @Test func goPluginKillWaitsTwoSecondsThenSIGKILLs() async throws {
    try await withHost { host, _ in
      let graceful = try await PluginClient.launch(path: host.stub)
      var start = ContinuousClock.now
      await graceful.kill()
      #expect(ContinuousClock.now - start < .seconds(1))
      #expect(graceful.process.exitStatus == .signaled(SIGTERM))

      host.exitOnShutdown.store(false, ordering: .relaxed)
      let stubborn = try await PluginClient.launch(path: host.stub)
      start = ContinuousClock.now
      await stubborn.kill()
      let elapsed = ContinuousClock.now - start
      #expect(elapsed >= .seconds(2) && elapsed < .seconds(4))
      #expect(stubborn.process.exitStatus == .signaled(SIGKILL))
      #expect(host.driver.methods().filter { $0 == "Shutdown" }.count == 2)
    }
  }

  @Test func restoreRecoversFromPersistedHandles() async throws {
    try await withHost { host, data in
      try await withAgent(host, data: data) { first in
        let text = """
          {"Job": {"ID": "demo", "TaskGroups": [{"Name": "app", "RestartPolicy": {"Attempts": 0},
            "Tasks": [{"Name": "web", "Driver": "fake", "Config": {"command": "run"}, "KillTimeout": "1s"}]}]}}
          """
        let alloc = try #require(try await first.submit(try JobFile.parse(text), jobJSON: text).first)
        _ = try await whileRunning(alloc) { runner in
          let taskID = try #require(await runner.currentTaskID)
          // A new agent (as after a restart) restores the alloc and recovers the task.
          try await withAgent(host, data: data) { second in
            let restored = try #require(await second.restoreAllocations().first)
            #expect(restored.allocID == alloc.allocID)
            let rerun = Task { await restored.run() }
            let recovered = try #require(await restored.taskRunner(named: "web"))
            #expect(await eventually(timeout: .seconds(10)) { host.driver.methods().contains("RecoverTask") })
            #expect(await eventually { await recovered.currentTaskID == taskID })
            let final = await restored.stop()
            #expect(final["web"]?.events.last?.type == "Killed")
            #expect(!host.driver.calls.withLock { $0.filter { $0.method == "StartTask" } }.isEmpty)
            #expect(host.driver.calls.withLock { $0.filter { $0.method == "StartTask" }.count } == 1)
            _ = await rerun.value
          }
        }
      }
    }
  }
}
