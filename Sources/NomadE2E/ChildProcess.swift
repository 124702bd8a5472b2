import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A child process started with `posix_spawn` and reaped by polling `waitpid(pid, WNOHANG)`.
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
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    let flags = O_WRONLY | O_CREAT | O_APPEND
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdout, flags, 0o644)
    if stderr == stdout {
      posix_spawn_file_actions_adddup2(&actions, 1, 2)
    } else {
      posix_spawn_file_actions_addopen(&actions, 2, stderr, flags, 0o644)
    }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t()
    sigemptyset(&empty)
    var all = sigset_t()
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attributes, &empty)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

    let cArguments = argv.map { strdup($0) } + [nil]
    let cEnvironment = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      for pointer in cArguments { free(pointer) }
      for pointer in cEnvironment { free(pointer) }
    }
    var child: pid_t = 0
    let result = posix_spawn(&child, argv[0], &actions, &attributes, cArguments, cEnvironment)
    guard result == 0 else {
      throw CommandError(
        command: argv, result: nil, reason: "could not start: \(String(cString: strerror(result)))")
    }
    pid = child
  }

  /// The exit status (128+N for signal N) once the child has ended; nil while it runs.
  public var status: Int32? {
    lock.lock()
    defer { lock.unlock() }
    if let exitStatus { return exitStatus }
    var raw: Int32 = 0
    let reaped = waitpid(pid, &raw, WNOHANG)
    if reaped == pid {
      let signal = raw & 0x7f
      exitStatus = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
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
