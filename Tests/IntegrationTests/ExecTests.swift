import Foundation
import Milo
import MiloSupervisor
import NomadHost
import NomadPlugin
import NomadProto
import Testing

/// Issue 5: `ExecTask` (script checks) and `ExecTaskStreaming` (`nomad alloc exec`) in a running
/// milo task: as the task's user with no_new_privs, stdin/stdout/stderr and terminals, timeouts,
/// errors a person can act on, and nothing left behind.
@Suite(.serialized, .enabled(if: Fixtures.canRunContainers, "needs root, crun, a JDK and the milo binary"))
struct ExecTests {
  /// Runs `body` with a harness and one long-running task (cleaned up however `body` ends).
  static func serving(
    _ name: String, taskName: String = "java-app",
    _ body: (MiloHarness, AllocRunner, TaskRunner, DriverState) async throws -> Void
  ) async throws {
    try await withMiloHarness(name) { harness in
      let (alloc, runner) = try await harness.run(MiloHarness.testAppTask(["serve", "500"], name: taskName))
      let state = try await Ops.started(harness, alloc, runner, log: "Starting application...")
      try await body(harness, alloc, runner, state)
    }
  }

  /// Nothing an exec started is left running: no process besides `milo init` and the JVM in the
  /// container, no zombies (the init reaps what an exec orphans), no runtime exec process, no
  /// pid/log/console files.
  static func expectNoExecLeftovers(_ harness: MiloHarness, _ state: DriverState) async {
    let clean = await eventually(timeout: .seconds(5)) {
      Ops.processesInPidNamespace(of: state.containerPid).count == 2
        && Ops.runtimeExecProcesses(stateDir: harness.stateDir).isEmpty && Ops.execFiles(state).isEmpty
    }
    #expect(
      clean,
      "container processes \(Ops.describePidNamespace(of: state.containerPid)), runtime exec \(Ops.runtimeExecProcesses(stateDir: harness.stateDir)), files \(Ops.execFiles(state))"
    )
    #expect(Ops.liveProcessesInPidNamespace(of: state.containerPid).map(\.name) == ["init", "java"])
  }

  // MARK: - ExecTask

  @Test func execTaskRunsAsTheTaskUserWithNoNewPrivileges() async throws {
    try await Self.serving("exec-basic") { harness, alloc, runner, state in
      let hi = try await runner.exec(["/bin/sh", "-c", "echo hi"])
      #expect(Ops.string(Array(hi.stdout)) == "hi\n")
      #expect(hi.stderr.isEmpty)
      #expect(hi.result.exitCode == 0 && hi.result.signal == 0)

      let mixed = try await runner.exec(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"])
      #expect(Ops.string(Array(mixed.stdout)) == "out\n")
      #expect(Ops.string(Array(mixed.stderr)) == "err\n")
      #expect(mixed.result.exitCode == 3)

      // The task's user (default_user nobody), no capabilities, no_new_privs, in the task's
      // directory with the task's environment.
      let identity = try await runner.exec([
        "/bin/sh", "-c",
        "id; grep -E '^(NoNewPrivs|CapEff|CapBnd|CapAmb)' /proc/self/status; pwd; echo $NOMAD_TASK_DIR $JAVA_HOME",
      ])
      #expect(
        Ops.string(Array(identity.stdout)) == """
          uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)
          CapEff:\t0000000000000000
          CapBnd:\t0000000000000000
          CapAmb:\t0000000000000000
          NoNewPrivs:\t1
          /
          /local \(state.javaHome)

          """)
      // In the task's container: its pid namespace (milo init is PID 1, the JVM PID 2) and its cgroup.
      let inside = Ops.string(
        Array(try await runner.exec(["/bin/sh", "-c", "cat /proc/1/comm /proc/2/comm /proc/self/cgroup"]).stdout))
      #expect(inside.hasPrefix("init\njava\n"), "\(inside)")
      #expect(inside.contains(":/milo/\(state.containerID)\n"), "\(inside)")
      // Root-owned files stay out of reach.
      let denied = try await runner.exec(["/bin/sh", "-c", "echo x > /etc/passwd"])
      #expect(denied.result.exitCode != 0)
      #expect(Ops.string(Array(denied.stderr)).contains("/etc/passwd"))

      await Self.expectNoExecLeftovers(harness, state)
    }
  }

  @Test func execTaskTimeoutKillsTheCommand() async throws {
    try await Self.serving("exec-timeout") { harness, alloc, runner, state in
      let started = ContinuousClock.now
      let error = await #expect(throws: PluginCallError.self) {
        _ = try await runner.exec(["/bin/sleep", "30"], timeout: .seconds(1))
      }
      let took = ContinuousClock.now - started
      #expect(error?.code == .deadlineExceeded)
      #expect(
        error?.description
          == "rpc error: code = DeadlineExceeded desc = exec in task java-app timed out after 1s: the command was killed"
      )
      #expect(took >= .seconds(1) && took < .seconds(3), "took \(took)")
      await Self.expectNoExecLeftovers(harness, state)
      // A command that finishes in time is not affected by its timeout.
      let quick = try await runner.exec(["/bin/sh", "-c", "sleep 0.2; echo done"], timeout: .seconds(5))
      #expect(Ops.string(Array(quick.stdout)) == "done\n")
      #expect(await runner.taskState.state == .running, "the task is untouched")
    }
  }

  @Test func commandsThatCannotRunAndTasksThatAreNotRunning() async throws {
    try await Self.serving("exec-errors") { harness, alloc, runner, state in
      // Not found: 127 with the runtime's explanation, as a shell reports it.
      let missing = try await runner.exec(["nosuch"])
      #expect(missing.result.exitCode == 127)
      #expect(missing.stdout.isEmpty)
      #expect(
        Ops.string(Array(missing.stderr)) == "executable file `nosuch` not found in $PATH: No such file or directory\n")
      let absent = try await runner.exec(["/no/such/file"])
      #expect(absent.result.exitCode == 127)
      // Not executable: 126.
      let directory = try await runner.exec(["/etc"])
      #expect(directory.result.exitCode == 126, "\(Ops.string(Array(directory.stderr)))")
      let plain = try await runner.exec(["/etc/passwd"])
      #expect(plain.result.exitCode == 126)
      #expect(Ops.string(Array(plain.stderr)) == "open executable: Permission denied\n")
      // An empty command.
      let empty = await #expect(throws: PluginCallError.self) { _ = try await runner.exec([]) }
      #expect(empty?.code == .invalidArgument)
      #expect(empty?.description == "rpc error: code = InvalidArgument desc = exec: the command is empty")
      await Self.expectNoExecLeftovers(harness, state)

      // After the task exited: the runner has no task, and milo no longer knows its ID.
      let driver = try #require(await runner.driverClient)
      let taskID = try #require(await runner.currentTaskID)
      _ = await alloc.stop()
      await #expect(throws: TaskNotRunningError.self) { _ = try await runner.exec(["/bin/true"]) }
      let gone = await #expect(throws: PluginCallError.self) {
        _ = try await driver.execTask(taskID: taskID, command: ["/bin/true"], timeout: .seconds(5))
      }
      #expect(gone?.code == .notFound)
      #expect(gone?.description == "rpc error: code = NotFound desc = task not found for given id: \(taskID)")
      let (input, sink) = AsyncStream.makeStream(of: ExecStreamInput.self)
      let goneStreaming = await #expect(throws: PluginCallError.self) {
        _ = try await driver.execTaskStreaming(taskID: taskID, command: ["/bin/sh"], tty: true, input: input) { _ in }
      }
      sink.finish()
      #expect(goneStreaming?.description == "rpc error: code = NotFound desc = task not found for given id: \(taskID)")
      await #expect(throws: TaskNotRunningError.self) {
        _ = try await runner.execStreaming(["/bin/true"], tty: false, input: AsyncStream { $0.finish() }) { _ in }
      }
    }
  }

  // MARK: - ExecTaskStreaming

  @Test func streamingPassesStdinAndKeepsStdoutAndStderrApart() async throws {
    try await Self.serving("exec-stream") { harness, alloc, runner, state in
      let pluginPid = try await Ops.pluginPid(harness)
      _ = try await Ops.stream(runner, ["/bin/true"])  // warm-up: threads and descriptors settle
      let baselineFDs = Ops.openDescriptors(pluginPid)

      let cat = try await Ops.stream(
        runner, ["cat"], input: [.stdin(Array("hello\n".utf8)), .stdin(Array("world\n".utf8))], closeInputAtEnd: true)
      #expect(cat.out == "hello\nworld\n")
      #expect(cat.err.isEmpty)
      #expect(cat.result.exitCode == 0)
      // Nomad's order: the streams close, then the exit result.
      #expect(cat.outputs.suffix(2) == [.stdoutClosed, .stderrClosed])

      let both = try await Ops.stream(
        runner, ["/bin/sh", "-c", "cat; echo done >&2; exit 4"], input: [.stdin(Array("in\n".utf8))],
        closeInputAtEnd: true)
      #expect(both.out == "in\n")
      #expect(both.err == "done\n")
      #expect(both.result.exitCode == 4)

      // 4 MiB through cat, byte-exact: input is written as the command reads it.
      var big: [UInt8] = []
      for i in 0..<(4 << 20) { big.append(UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 13)) }
      let chunks = stride(from: 0, to: big.count, by: 256 << 10).map {
        ExecStreamInput.stdin(Array(big[$0..<min($0 + (256 << 10), big.count)]))
      }
      let echoed = try await Ops.stream(runner, ["cat"], input: chunks, pause: .zero, closeInputAtEnd: true)
      #expect(echoed.stdout.count == big.count)
      #expect(echoed.stdout == big)
      #expect(echoed.result.exitCode == 0)

      // A command that never reads its stdin does not block the session.
      let ignoring = try await Ops.stream(
        runner, ["/bin/sh", "-c", "sleep 0.5; echo ok"], input: [.stdin([UInt8](repeating: 0x61, count: 1 << 20))],
        pause: .zero, closeInputAtEnd: true)
      #expect(ignoring.out == "ok\n")

      let missing = try await Ops.stream(runner, ["nosuch"])
      #expect(missing.result.exitCode == 127)
      #expect(missing.err == "executable file `nosuch` not found in $PATH: No such file or directory\n")

      await Self.expectNoExecLeftovers(harness, state)
      #expect(
        await eventually(timeout: .seconds(5)) { Ops.openDescriptors(pluginPid) <= baselineFDs },
        "plugin descriptors \(Ops.openDescriptors(pluginPid)) > \(baselineFDs)")
    }
  }

  /// With a long task name the task's state dir path is too long for a unix socket, so the
  /// console socket goes to a private directory under /tmp (removed afterwards).
  @Test(arguments: ["java-app", "a-task-with-a-name-long-enough-to-overflow-sun-path"])
  func streamingWithATerminal(taskName: String) async throws {
    try await Self.serving("exec-tty", taskName: taskName) { harness, alloc, runner, state in
      let consoleDirs = {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []).filter { $0.hasPrefix("milo-console-") }
      }
      let before = Set(consoleDirs())

      let tty = try await Ops.stream(runner, ["tty"], tty: true)
      #expect(tty.out.range(of: #"^/dev/pts/[0-9]+\r\n$"#, options: .regularExpression) != nil, "\(tty.out)")
      #expect(tty.result.exitCode == 0)

      // The size set before the command reads it, then a resize while it runs (SIGWINCH).
      let sized = try await Ops.stream(
        runner, ["/bin/sh", "-c", "read a; stty size; read b; stty size"], tty: true,
        input: [
          .resize(width: 100, height: 30), .stdin(Array("go\n".utf8)), .resize(width: 132, height: 43),
          .stdin(Array("again\n".utf8)),
        ], pause: .milliseconds(200))
      #expect(sized.out == "go\r\n30 100\r\nagain\r\n43 132\r\n", "\(sized.out.debugDescription)")
      #expect(sized.result.exitCode == 0)

      // An interactive shell: input echoed by the terminal, exit status at the end.
      let shell = try await Ops.stream(
        runner, ["/bin/sh"], tty: true, input: [.stdin(Array("echo $((6*7))\n".utf8)), .stdin(Array("exit 5\n".utf8))],
        pause: .milliseconds(300))
      #expect(shell.out.contains("42\r\n"), "\(shell.out.debugDescription)")
      #expect(shell.result.exitCode == 5)
      // Ctrl-D (stdin close) ends it too.
      let eof = try await Ops.stream(runner, ["/bin/sh"], tty: true, closeInputAtEnd: true)
      #expect(eof.result.exitCode == 0)

      // Without a terminal.
      let noTTY = try await Ops.stream(runner, ["tty"])
      #expect(noTTY.out == "not a tty\n")
      #expect(noTTY.result.exitCode == 1)

      await Self.expectNoExecLeftovers(harness, state)
      #expect(Set(consoleDirs()) == before, "console socket directories left in /tmp")
    }
  }

  @Test func aCallerThatGoesAwayLeavesNothingBehind() async throws {
    try await Self.serving("exec-cancel") { harness, alloc, runner, state in
      let pluginPid = try await Ops.pluginPid(harness)
      _ = try await Ops.stream(runner, ["/bin/true"])
      let baselineFDs = Ops.openDescriptors(pluginPid)
      // A command, a shell loop forking all the time, and a tree with a background child: all
      // of it is killed (stopped first, so nothing forks away).
      let commands = [
        ["/bin/sleep", "300"], ["/bin/sh", "-c", "while :; do echo tick; sleep 0.05; done"],
        ["/bin/sh", "-c", "sleep 300 & sleep 301; wait"],
      ]
      for tty in [false, true] {
        for command in commands {
          let session = Task { try await Ops.stream(runner, command, tty: tty) }
          let running = await eventually(timeout: .seconds(5)) {
            Ops.liveProcessesInPidNamespace(of: state.containerPid).count >= 3
          }
          #expect(running, "the exec did not start")
          try await Task.sleep(for: .milliseconds(300))
          session.cancel()
          _ = await session.result
          // The shell's children die with it; `milo init` reaps them.
          await Self.expectNoExecLeftovers(harness, state)
        }
      }
      #expect(
        await eventually(timeout: .seconds(5)) { Ops.openDescriptors(pluginPid) <= baselineFDs },
        "plugin descriptors \(Ops.openDescriptors(pluginPid)) > \(baselineFDs)")
      #expect(await runner.taskState.state == .running)
    }
  }

  /// `milo init` is PID 1 of the container: processes orphaned inside it (a command's background
  /// children) are adopted by the init, run on as Nomad users expect (`nomad alloc exec` does not
  /// kill what a command left behind), and are reaped when they exit: no zombies.
  @Test func orphansOfAnExecAreAdoptedAndReapedByTheContainersInit() async throws {
    try await Self.serving("exec-orphans") { harness, alloc, runner, state in
      let started = try await runner.exec(["/bin/sh", "-c", "sleep 0.3 >/dev/null 2>&1 & echo started"])
      #expect(Ops.string(Array(started.stdout)) == "started\n")
      #expect(started.result.exitCode == 0)
      let orphan = try #require(Ops.liveProcessesInPidNamespace(of: state.containerPid).first { $0.name == "sleep" })
      #expect(Ops.parentPid(orphan.pid) == state.containerPid, "adopted by milo init")
      let reaped = await eventually(timeout: .seconds(5)) { !Ops.isZombie(orphan.pid) && kill(orphan.pid, 0) != 0 }
      #expect(reaped, "\(Ops.describePidNamespace(of: state.containerPid))")
      #expect(Ops.processesInPidNamespace(of: state.containerPid).map(\.name) == ["init", "java"])
    }
  }
}
