import CMiloSys
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
    var signalFD: Int32
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
    _ = milo_set_subreaper()
    let signals: [Int32] = [SIGCHLD, SIGTERM, SIGINT, SIGHUP, Supervisor.forwardCarrier]
    let sigfd = signals.withUnsafeBufferPointer { milo_signalfd_open($0.baseAddress, Int32($0.count)) }
    guard sigfd >= 0 else { return .failed(fail("signalfd: \(String(cString: strerror(-sigfd)))")) }

    var outPipe: [Int32] = [0, 0]
    var errPipe: [Int32] = [0, 0]
    guard milo_pipe2(&outPipe, O_CLOEXEC) == 0, milo_pipe2(&errPipe, O_CLOEXEC) == 0 else {
      return .failed(fail("pipe2: \(String(cString: strerror(errno)))"))
    }
    var relays = [
      StreamRelay(
        name: "stdout", input: outPipe[0], sinkPath: options.stdoutPath,
        capacity: options.bufferBytes, policy: RelayPolicy(lineBuffered: true)),
      StreamRelay(
        name: "stderr", input: errPipe[0], sinkPath: options.stderrPath,
        capacity: options.bufferBytes, policy: RelayPolicy(lineBuffered: false)),
    ]
    // `milo init` reports the application's exact exit status through this pipe.
    var statusPipe: [Int32] = [-1, -1]
    if options.containerInit && milo_pipe2(&statusPipe, O_CLOEXEC | O_NONBLOCK) != 0 {
      return .failed(fail("pipe2: \(String(cString: strerror(errno)))"))
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
          stdio: Spawn.Stdio(stdin: -1, stdout: outPipe[1], stderr: errPipe[1]),
          hideMount: options.hideMount, passFD: statusPipe[1])
        return Spawn.waitFor(pid)
      }
      runtimeStatus = try options.parent?.whileCreating(create) ?? create()
    } catch {
      close(outPipe[1])
      close(errPipe[1])
      return .failed(fail("could not run \(options.runtime): \(error)"))
    }
    close(outPipe[1])
    close(errPipe[1])
    if statusPipe[1] >= 0 { close(statusPipe[1]) }

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
    milo_release_startup_memory()
    log("container \(options.containerID) running as pid \(containerPid)")
    return .started(
      Started(
        signalFD: sigfd, relays: relays, statusFD: statusPipe[0], containerPid: containerPid,
        startedAt: startedAt))
  }
}
