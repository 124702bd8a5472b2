import MiloSys

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The per-task supervisor: the parent of one container for its whole life.
///
/// It runs in its own session, holds none of the plugin's sockets, and so outlives plugin
/// restarts. It starts the container with the OCI runtime, stays its subreaper to learn the real
/// exit status, relays stdout and stderr into Nomad's log FIFOs, records the exit durably in the
/// state directory and deletes the container.
///
/// Readiness is reported on standard output, which the plugin reads: `ok <pid>` once the
/// container runs, or `error <message>` when it could not start.
public struct Supervisor {
  /// The signal that carries a request to forward its payload (a signal number) to the app.
  public static let forwardCarrier = SupervisorContract.signalCarrier

  let options: SupervisorOptions
  let log: (String) -> Void
  /// How long to keep relaying after the container exited before closing the FIFOs.
  public var drainNanos: UInt64 = 1_500_000_000
  /// When, after the start, the supervisor drops the code pages its first rounds touched.
  static let settledReleaseNanos: UInt64 = 10_000_000_000

  public init(options: SupervisorOptions, log: @escaping (String) -> Void) {
    self.options = options
    self.log = log
  }

  /// The task's state directory layout.
  var paths: TaskPaths {
    TaskPaths(taskStateDir: options.stateDir, runtimeRoot: options.runtimeRoot, containerID: options.containerID)
  }
  var exitPath: String { paths.exitRecord }
  var pidFile: String { paths.pidFile }
  /// The OCI runtime, with the task's state root.
  var runtime: RuntimeCommand { RuntimeCommand(path: options.runtime, root: options.runtimeRoot) }

  /// Runs the task to its end: starts the container, relays until it exited and its output is
  /// drained, then records the exit. Returns the process exit code for the supervisor itself.
  public func run() -> Int32 {
    switch start() {
    case .failed(let code):
      return code
    case .started(var started):
      let exitStatus = eventLoop(&started)
      reportExit(&started, exitStatus: exitStatus)
      return 0
    }
  }

  /// Sends a signal the plugin asked for to the container's first process. Under `milo init`:
  /// waits (up to 500 ms, right after the start) until the init blocks the signal, as the kernel
  /// discards signals to a namespace's init that neither blocks nor handles them; and sends the
  /// signals the init cannot forward (SIGSTOP, SIGCHLD) straight to its children (the JVM).
  func deliver(_ signal: Int32, to containerPid: pid_t) {
    guard options.containerInit, signal != SIGKILL else {
      kill(containerPid, signal)
      return
    }
    if ContainerInit.notForwarded.contains(signal) {
      for child in Self.children(of: containerPid) { kill(child, signal) }
      return
    }
    let deadline = Posix.monotonicNanos() + 500_000_000
    while SignalDisposition.read(pid: containerPid)?.blocked.contains(signal) != true
      && Posix.monotonicNanos() < deadline
    {
      usleep(5_000)
    }
    kill(containerPid, signal)
  }

  /// The children of `pid` (its main thread's, which for the init are all of them).
  static func children(of pid: pid_t) -> [pid_t] {
    let text = Posix.readText("/proc/\(pid)/task/\(pid)/children") ?? ""
    return text.split(separator: " ").compactMap { pid_t($0.filter { !$0.isWhitespace }) }
  }

  func reap(containerPid: pid_t, into exitStatus: inout Int32?) {
    while true {
      var status: Int32 = 0
      let pid = waitpid(-1, &status, WNOHANG)
      if pid <= 0 { return }
      if pid == containerPid { exitStatus = status }
    }
  }

  func drain(_ relays: inout [StreamRelay], deadline: UInt64) {
    var scratch = [UInt8](repeating: 0, count: 64 << 10)
    repeat {
      let now = Posix.monotonicNanos()
      for index in relays.indices {
        relays[index].readInput(now: now, scratch: &scratch)
        relays[index].flush(now: now, final: true)
      }
      if relays.allSatisfy({ !$0.hasPendingOutput }) { return }
      usleep(5_000)
    } while Posix.monotonicNanos() < deadline
  }

  func oomKilled() -> Bool {
    guard let file = options.oomFile, let text = Posix.readText(file) else { return false }
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: " ")
      if parts.count == 2, parts[0] == "oom_kill", let count = Int(parts[1]) { return count > 0 }
    }
    return false
  }

  /// Deletes the container (and so its cgroup), then the cgroup parent if no task is left in it.
  func deleteContainer() {
    ContainerCleanup.remove(
      containerID: options.containerID, runtime: runtime, parent: options.parent, log: log)
  }

  func writeExit(_ record: ExitRecord) {
    do {
      try Posix.writeFileAtomically(exitPath, record.text)
    } catch {
      log("could not record the exit: \(error)")
    }
  }

  func report(_ line: String) {
    Posix.writeAll(1, Array(line.utf8))
    let devNull = open("/dev/null", O_WRONLY)
    if devNull >= 0 {
      dup2(devNull, 1)
      close(devNull)
    }
  }

  func fail(_ reason: String, startedAt: Int64 = Posix.wallNanos()) -> Int32 {
    log("start failed: \(reason)")
    writeExit(
      ExitRecord(
        exitCode: -1, startedAt: startedAt, finishedAt: Posix.wallNanos(), startError: reason))
    report(ReadinessLine.failed(reason: reason).text)
    return 1
  }
}

extension Supervisor {
  /// Folds line breaks (\n, \r) into " | " so a message fits the one-line readiness protocol.
  static func oneLine(_ text: String) -> String { ReadinessLine.oneLine(text) }
}

extension String {
  func trimmed(_ set: String) -> String {
    let chars = Set(set)
    var s = Substring(self)
    while let first = s.first, chars.contains(first) { s = s.dropFirst() }
    while let last = s.last, chars.contains(last) { s = s.dropLast() }
    return String(s)
  }
}
