import Foundation
import MiloSys

#if canImport(Glibc)
  import Glibc
#endif

/// A child process started with `Spawn` and reaped by polling `waitpid(pid, WNOHANG)`.
///
/// Foundation's `Process` is not used: its SIGCHLD-driven reaping missed an agent's exit under
/// the test runner (a zombie that `isRunning` still called running), and its children inherited
/// the runner's blocked signals (a `SIGTERM` that never arrived). Here the child starts with an
/// empty signal mask and default dispositions, and exit is observed by this process alone.
public final class ChildProcess: @unchecked Sendable {
  public let pid: pid_t
  private let lock = NSLock()
  private var exitStatus: Int32?

  /// Starts `argv` (`argv[0]` an absolute path) with `environment` as its whole environment,
  /// stdin from /dev/null, and stdout and stderr appended to the files at `stdout` and `stderr`
  /// (created if missing; the same path for both shares one file).
  public init(_ argv: [String], environment: [String: String], stdout: String, stderr: String)
    throws
  {
    let flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC
    let out = open(stdout, flags, 0o644)
    guard out >= 0 else { throw Self.startFailure(argv, SystemError("open \(stdout)")) }
    defer { close(out) }
    let err = stderr == stdout ? out : open(stderr, flags, 0o644)
    guard err >= 0 else { throw Self.startFailure(argv, SystemError("open \(stderr)")) }
    defer { if err != out { close(err) } }
    do {
      pid = try Spawn.start(
        argv, environment: environment.map { "\($0.key)=\($0.value)" },
        stdio: Spawn.Stdio(stdout: out, stderr: err))
    } catch {
      throw Self.startFailure(argv, error)
    }
  }

  private static func startFailure(_ argv: [String], _ error: SystemError) -> CommandError {
    CommandError(command: argv, result: nil, reason: "could not start: \(error)")
  }

  /// The exit status (128+N for signal N) once the child has ended; nil while it runs.
  public var status: Int32? {
    lock.lock()
    defer { lock.unlock() }
    if let exitStatus { return exitStatus }
    var raw: Int32 = 0
    let reaped = waitpid(pid, &raw, WNOHANG)
    if reaped == pid {
      exitStatus = WaitStatus(raw).shellExitCode
    } else if reaped < 0 && errno == ECHILD {
      exitStatus = -1
    }
    return exitStatus
  }

  public var isRunning: Bool { status == nil }

  /// Sends `signal` unless the child has already been reaped.
  public func signal(_ signal: Int32) {
    if isRunning { kill(pid, signal) }
  }

  /// Waits until the child ends and returns its status.
  public func wait() async -> Int32 {
    while true {
      if let status { return status }
      try? await Task.sleep(for: .milliseconds(10))
    }
  }

  /// Sends `signal`, waits up to `grace` seconds, then SIGKILL and waits for the end.
  public func stop(_ signal: Int32 = SIGTERM, grace: Double = 10) async {
    self.signal(signal)
    let deadline = ContinuousClock.now + .seconds(grace)
    while isRunning && ContinuousClock.now < deadline {
      try? await Task.sleep(for: .milliseconds(20))
    }
    self.signal(SIGKILL)
    _ = await wait()
  }
}
