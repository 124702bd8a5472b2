import MiloSys

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// `milo init`: the first process of a task's container, so that the JVM is an ordinary process.
///
/// The kernel treats a pid namespace's init specially: a signal it has no handler for is
/// discarded (SIGUSR1 would not end a JVM, as it does under Nomad's `java` driver), and orphans
/// are re-parented to it (processes left behind by `nomad alloc exec` would stay zombies). This
/// init runs the command as its child, forwards every signal it receives to it, reaps orphans,
/// and exits with the child's status. The exact status (code, or the signal that killed the
/// child) is written to descriptor 3 when the supervisor passed one, because an init cannot die
/// by a signal it would forward and so can only exit with 128+signal.
public enum ContainerInit {
  /// The descriptor the supervisor passes for the exact status (`crun run --preserve-fds 1`).
  public static let statusFD: Int32 = 3

  /// Signals that are not forwarded: SIGCHLD is the init's own, SIGKILL and SIGSTOP cannot be
  /// caught (the supervisor sends those straight to the init's child). Fault signals sent by
  /// someone are forwarded; a real fault in the init is still delivered, as the kernel forces
  /// synchronous faults through a blocked mask.
  public static let notForwarded: Set<Int32> = [SIGCHLD, SIGKILL, SIGSTOP]

  /// The signals the init forwards: every standard signal but `notForwarded`.
  public static let forwarded: [Int32] = (1..<32).map { Int32($0) }.filter { !notForwarded.contains($0) }

  /// Runs `arguments` (an absolute program path and its arguments) and returns the exit code for
  /// the init itself.
  public static func run(arguments: [String]) -> Int32 {
    guard let program = arguments.first else {
      fail("milo init: no command given (usage: milo init <program> [arguments...])")
      return 127
    }
    let signals = forwarded + [SIGCHLD]
    // Blocked signals are queued even for a namespace's init, so none is lost before the read.
    let signalFD: SignalFD
    do {
      signalFD = try SignalFD(blocking: signals)
    } catch {
      fail("milo init: \(error)")
      return 127
    }
    ProcessRole.becomeSubreaper()
    let hasStatusFD = fcntl(statusFD, F_GETFD) >= 0
    if hasStatusFD { _ = fcntl(statusFD, F_SETFD, FD_CLOEXEC) }

    let child: pid_t
    do {
      child = try Spawn.start(
        arguments, environment: Environment.list(), stdio: Spawn.Stdio(stdin: 0, stdout: 1, stderr: 2))
    } catch {
      fail("milo init: cannot run \(program): \(error)")
      return error.errno == ENOENT ? 127 : 126
    }
    ProcessRole.releaseStartupMemory()

    var pollFD = pollfd(fd: signalFD.fd, events: Int16(POLLIN), revents: 0)
    while true {
      if poll(&pollFD, 1, -1) < 0 && errno != EINTR { break }
      while let (sig, _) = signalFD.next() {
        if sig != SIGCHLD {
          kill(child, sig)
          continue
        }
        if let status = reapAll(child: child) {
          if hasStatusFD { Posix.writeAll(statusFD, Array(ExitStatusLine.render(status).utf8)) }
          return WaitStatus(status).shellExitCode
        }
      }
    }
    // poll failed: the child cannot be followed any more; end it rather than linger.
    kill(child, SIGKILL)
    return WaitStatus(Spawn.waitFor(child)).shellExitCode
  }

  /// Reaps every exited process; returns `child`'s wait status once it has exited.
  static func reapAll(child: pid_t) -> Int32? {
    var result: Int32?
    while true {
      var status: Int32 = 0
      let pid = waitpid(-1, &status, WNOHANG)
      if pid <= 0 { return result }
      if pid == child { result = status }
    }
  }

  private static func fail(_ message: String) {
    Posix.writeAll(2, Array((message + "\n").utf8))
  }
}
