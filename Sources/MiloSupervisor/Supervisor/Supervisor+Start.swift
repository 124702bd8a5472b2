import MiloSys

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

extension Supervisor {
  /// What a successful start hands to the event loop and the exit report.
  struct Started {
    /// The signalfd for SIGCHLD, the stop signals and the signal carrier.
    var signals: SignalFD
    /// stdout's and stderr's relays.
    var relays: [StreamRelay]
    /// The read end of `milo init`'s status pipe, or -1.
    var statusFD: Int32
    var containerPid: pid_t
    /// Wall-clock nanoseconds when the start began.
    var startedAt: Int64
  }

  enum StartResult {
    case started(Started)
    /// The start failed and was reported; the supervisor exits with this code.
    case failed(Int32)
  }

  /// Sets up signals and relays, runs the container with the runtime and reports readiness.
  func start() -> StartResult {
    signal(SIGPIPE, SIG_IGN)
    ProcessRole.becomeSubreaper()
    let signals: SignalFD
    let outPipe: (read: Int32, write: Int32)
    let errPipe: (read: Int32, write: Int32)
    do {
      signals = try SignalFD(blocking: [SIGCHLD, SIGTERM, SIGINT, SIGHUP, Supervisor.forwardCarrier])
      outPipe = try Posix.pipe()
      errPipe = try Posix.pipe()
    } catch {
      return .failed(fail("\(error)"))
    }
    var relays = [
      StreamRelay(
        name: "stdout", input: outPipe.read, sinkPath: options.stdoutPath,
        capacity: options.bufferBytes, policy: RelayPolicy(lineBuffered: true)),
      StreamRelay(
        name: "stderr", input: errPipe.read, sinkPath: options.stderrPath,
        capacity: options.bufferBytes, policy: RelayPolicy(lineBuffered: false)),
    ]
    // `milo init` reports the application's exact exit status through this pipe.
    var statusPipe: (read: Int32, write: Int32) = (-1, -1)
    if options.containerInit {
      do {
        statusPipe = try Posix.pipe(flags: O_NONBLOCK)
      } catch {
        return .failed(fail("\(error)"))
      }
    }
    let runArguments = runtime.runArguments(
      containerID: options.containerID, bundle: options.bundle, pidFile: pidFile,
      preserveFDs: options.containerInit ? 1 : 0)
    let startedAt = Posix.wallNanos()
    let runtimeStatus: Int32
    do {
      // The runtime creates the task's cgroup below the shared parent: no task may remove
      // the parent meanwhile.
      let create = {
        let pid = try Spawn.start(
          runArguments, environment: Environment.list(),
          stdio: Spawn.Stdio(stdin: -1, stdout: outPipe.write, stderr: errPipe.write),
          hideMount: options.hideMount, passFD: statusPipe.write)
        return Spawn.waitFor(pid)
      }
      runtimeStatus = try options.parent?.whileCreating(create) ?? create()
    } catch {
      close(outPipe.write)
      close(errPipe.write)
      return .failed(fail("could not run \(options.runtime): \(error)"))
    }
    close(outPipe.write)
    close(errPipe.write)
    if statusPipe.write >= 0 { close(statusPipe.write) }

    let containerPid = Posix.readText(pidFile).flatMap {
      pid_t($0.trimmed(" \n"))
    }
    guard WaitStatus(runtimeStatus).shellExitCode == 0, let containerPid, containerPid > 0 else {
      // The runtime explains itself on its stderr, which is the task's stderr pipe.
      var scratch = [UInt8](repeating: 0, count: 64 << 10)
      relays[1].readInput(now: Posix.monotonicNanos(), scratch: &scratch)
      var message = ""
      relays[1].buffer.consume { raw in
        message = String(decoding: raw, as: UTF8.self)
        return 0
      }
      drain(&relays, deadline: Posix.monotonicNanos() + 200_000_000)
      let reason =
        "\(options.runtime) run exited with \(WaitStatus(runtimeStatus).shellExitCode): "
        + message.trimmed(" \n")
      deleteContainer()
      return .failed(fail(reason, startedAt: startedAt))
    }
    report(ReadinessLine.ready(containerPid: containerPid).text)
    ProcessRole.releaseStartupMemory()
    log("container \(options.containerID) running as pid \(containerPid)")
    return .started(
      Started(
        signals: signals, relays: relays, statusFD: statusPipe.read, containerPid: containerPid,
        startedAt: startedAt))
  }
}
