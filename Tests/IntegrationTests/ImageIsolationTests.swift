import Foundation
import Milo
import MiloSupervisor
import MiloSys
import NomadHost
import NomadPlugin
import NomadProto
import Testing

/// milo declares `image` filesystem isolation: the client builds no chroot and links nothing
/// into the task dir, and passes no host environment; milo binds the shared alloc dir itself.
/// And a start replaces whatever an earlier start of the same task left behind.
@Suite(.serialized, .enabled(if: Fixtures.canRunContainers, "needs root, crun, a JDK and the milo binary"))
struct ImageIsolationTests {
  static let nomadKeys: Set<String> = ["PATH", "JAVA_HOME", "HOME", "LANG", "TMPDIR"]

  @Test func theTaskSeesOnlyNomadsEnvironmentAndItsDirectories() async throws {
    try await withMiloHarness("image-env") { harness in
      let (alloc, runner) = try await harness.run(MiloHarness.testAppTask(["env"]), type: .batch)
      let final = await runner.waitUntilDone()
      #expect(final.lastExitCode == 0, "\(final.summary)")
      let lines = String(decoding: try await harness.logs(alloc), as: UTF8.self).split(separator: "\n")
      var env: [String: String] = [:]
      for line in lines {
        guard let equals = line.firstIndex(of: "=") else { continue }
        env[String(line[..<equals])] = String(line[line.index(after: equals)...])
      }
      #expect(env["NOMAD_ALLOC_DIR"] == "/alloc")
      #expect(env["NOMAD_TASK_DIR"] == "/local")
      #expect(env["NOMAD_SECRETS_DIR"] == "/secrets")
      #expect(env["NOMAD_ALLOC_ID"] == alloc.allocID)
      #expect(env["NOMAD_TASK_NAME"] == "java-app")
      #expect(env["NOMAD_MEMORY_LIMIT"] == "256")
      let javaHome = try #require(env["JAVA_HOME"])
      #expect(env["PATH"]?.hasPrefix(javaHome + "/bin:") == true, "\(env["PATH"] ?? "-")")
      #expect(env["HOME"] == "/local")
      #expect(env["LANG"] == "C.UTF-8")
      #expect(env["TMPDIR"] == "/tmp")
      // No host environment: every variable is Nomad's or one milo sets.
      let foreign = env.keys.filter { !$0.hasPrefix("NOMAD_") && !Self.nomadKeys.contains($0) }
      #expect(foreign.isEmpty, "host variables leaked into the task: \(foreign.sorted())")
      // The client built no chroot and linked no alloc dir into the task dir.
      let taskDir = alloc.allocDir.taskDir("java-app")
      let entries = Set((try? FileManager.default.contentsOfDirectory(atPath: taskDir.dir)) ?? [])
      #expect(entries == ["local", "tmp", "secrets"], "\(entries)")
    }
  }

  @Test func allocIsSharedAndLocalSecretsTmpAreTheTasksOwn() async throws {
    try await withMiloHarness("image-dirs") { harness in
      let tasks = ["writer", "reader"].map { MiloHarness.testAppTask(["serve", "200"], name: $0) }
      let job = JobSpec(id: "dirs-\(UUID().uuidString.prefix(6))", groups: [GroupSpec(name: "app", tasks: tasks)])
      let alloc = try #require(try await harness.agent.submit(job).first)
      harness.adopt(alloc)
      Task { _ = await alloc.run() }
      let writer = try #require(await alloc.taskRunner(named: "writer"))
      let reader = try #require(await alloc.taskRunner(named: "reader"))
      _ = try await Ops.started(harness, alloc, writer, log: "Processing...")
      _ = try await Ops.started(harness, alloc, reader, log: "Processing...")

      let write = try await writer.exec([
        "/bin/sh", "-c",
        "echo shared > /alloc/data/x && echo l > /local/f && echo s > /secrets/f && echo t > /tmp/f"
          + " && test -d /alloc/logs && echo ok",
      ])
      #expect(write.result.exitCode == 0, "\(Ops.string(Array(write.stderr)))")
      #expect(Ops.string(Array(write.stdout)) == "ok\n")
      let read = try await reader.exec([
        "/bin/sh", "-c", "cat /alloc/data/x; for f in /local/f /secrets/f /tmp/f; do test -e $f && echo $f; done; true",
      ])
      #expect(Ops.string(Array(read.stdout)) == "shared\n", "the reader sees only the shared alloc dir's file")

      // On the host: the files are in the alloc's shared dir and the writer's own dirs; secrets
      // is the tmpfs the client mounted.
      let taskDir = alloc.allocDir.taskDir("writer")
      #expect((try? String(contentsOfFile: alloc.allocDir.dataDir + "/x", encoding: .utf8)) == "shared\n")
      #expect((try? String(contentsOfFile: taskDir.local + "/f", encoding: .utf8)) == "l\n")
      #expect((try? String(contentsOfFile: taskDir.tmp + "/f", encoding: .utf8)) == "t\n")
      #expect((try? String(contentsOfFile: taskDir.secrets + "/f", encoding: .utf8)) == "s\n")
      let mounts = Posix.readText("/proc/self/mountinfo") ?? ""
      #expect(
        mounts.split(separator: "\n").contains { $0.contains(" \(taskDir.secrets) ") && $0.contains(" - tmpfs ") })
    }
  }

  /// Nomad repeats a `StartTask` whose answer it lost when the plugin died (same task id, new
  /// plugin instance), and restarts a task it believes exited (new task id) while the earlier
  /// container may still run. Each start replaces the leftover; nothing of it remains.
  @Test func aStartReplacesALeftoverContainer() async throws {
    try await withMiloHarness("leftover") { harness in
      let (alloc, runner) = try await harness.run(MiloHarness.testAppTask(["serve", "200"]))
      let first = try await Ops.started(harness, alloc, runner, log: "Processing...")
      let handle = try #require(await runner.taskHandle)
      let plugin = try await harness.driver.plugin
      let taskDir = harness.stateDir + "/tasks/" + first.containerID

      func newID() -> String { "\(alloc.allocID)/java-app/\(UUID().uuidString.lowercased().prefix(8))" }
      func config(_ id: String) -> TaskConfigProto {
        var config = handle.config
        config.id = id
        return config
      }
      func instance() async throws -> PluginClient {
        try await PluginLoader.dispense(plugin, nomadConfig: harness.agent.config.nomadConfig)
      }
      func supervisors() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry in
          guard let pid = Int32(entry), let raw = Posix.readFile("/proc/\(entry)/cmdline") else { return nil }
          let args = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
          return args.count > 3 && args[1] == "supervise" && args.contains(taskDir) ? pid : nil
        }
      }
      func alive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 && Ops.processState(pid) != "Z" }

      // 1. A second plugin instance that does not know the running task starts it again under a
      //    new id: the running container is stopped and replaced.
      let other = try await instance()
      let restartID = newID()
      let response = try await other.startTask(config(restartID))
      #expect(response.result == .success, "\(response.driverErrorMsg)")
      #expect(!alive(first.supervisorPid) && !alive(first.containerPid), "the old supervisor and JVM are gone")
      #expect(supervisors().count == 1, "one supervisor: \(supervisors())")
      let second = try DriverState.decode(response.handle.driverState)
      #expect(second.containerID == first.containerID)
      // The harness's runner sees its task exit and destroys it: that must not touch the new one.
      let final = await runner.waitUntilDone()
      #expect(final.state == .dead)
      #expect(alive(second.supervisorPid) && alive(second.containerPid), "the replacement still runs")
      #expect(Posix.readText(taskDir + "/task-id") == restartID + "\n")

      // 2. The plugin dies during StartTask; Nomad repeats it with the same id on a new instance.
      await other.sigkill()
      let retried = try await instance()
      let again = try await retried.startTask(config(restartID))
      #expect(again.result == .success, "\(again.driverErrorMsg)")
      let third = try DriverState.decode(again.handle.driverState)
      #expect(!alive(second.supervisorPid) && !alive(second.containerPid))
      #expect(supervisors() == [third.supervisorPid])

      // 3. DestroyTask for a task this instance does not know, whose container runs: removed.
      await retried.sigkill()
      let last = try await instance()
      try await last.destroyTask(taskID: newID(), force: true)
      #expect(alive(third.supervisorPid), "a destroy for another start's id leaves the container alone")
      try await last.destroyTask(taskID: restartID, force: true)
      #expect(!alive(third.supervisorPid) && !alive(third.containerPid))
      #expect(supervisors().isEmpty)
      #expect(!FileManager.default.fileExists(atPath: taskDir))
      #expect(!FileManager.default.fileExists(atPath: harness.stateDir + "/runtime/" + first.containerID))
      await last.kill()
    }
  }
}
