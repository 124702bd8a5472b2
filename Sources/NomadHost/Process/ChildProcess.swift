import MiloSys

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// A spawned child process, reaped by a dedicated thread blocked in `waitpid(pid)`.
final class ChildProcess: Sendable {
  /// The child's pid.
  let pid: pid_t
  private let exit = Latch<ProcessExitStatus>()

  private init(pid: pid_t) {
    self.pid = pid
  }

  /// Spawns `path` with `arguments` (argv[1...]) and `environment` (`KEY=VALUE` entries).
  /// `stdin`/`stdout`/`stderr` become the child's 0/1/2 (-1 = /dev/null). Throws Go's
  /// "fork/exec <path>: <error>" text when the exec fails.
  static func spawn(
    path: String, arguments: [String], environment: [String],
    stdin: Int32, stdout: Int32, stderr: Int32, newSession: Bool = false,
    workingDirectory: String? = nil
  ) throws(Syscall.Failure) -> ChildProcess {
    let pid: pid_t
    do {
      pid = try Spawn.start(
        [path] + arguments, environment: environment,
        stdio: Spawn.Stdio(stdin: stdin, stdout: stdout, stderr: stderr), newSession: newSession,
        workingDirectory: workingDirectory)
    } catch {
      throw Syscall.Failure(operation: "fork/exec", path: path, code: error.errno)
    }
    let child = ChildProcess(pid: pid)
    Blocking.detach(name: "reaper-\(pid)") { child.reap() }
    return child
  }

  private func reap() {
    let raw = Spawn.waitFor(pid)
    guard raw != -1 else {
      exit.fulfil(.unknown)
      return
    }
    let status = WaitStatus(raw)
    if let signal = status.signal {
      exit.fulfil(.signaled(signal))
    } else {
      exit.fulfil(.exited(status.exitCode ?? -1))
    }
  }

  /// The exit status once reaped.
  var exitStatus: ProcessExitStatus? { exit.value }

  /// Whether the child has not been reaped yet.
  var isRunning: Bool { exit.value == nil }

  /// Waits for the child to be reaped (nil if the calling task is cancelled).
  func waitForExit() async -> ProcessExitStatus? { await exit.wait() }

  /// Waits at most `timeout` for the child to be reaped.
  func waitForExit(timeout: Duration) async -> ProcessExitStatus? { await exit.wait(timeout: timeout) }

  /// Sends `signal` unless the child has already been reaped (its pid may be reused).
  @discardableResult
  func send(signal: Int32) -> Bool {
    guard isRunning else { return false }
    return kill(pid, signal) == 0
  }
}
