import CMiloSys

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
  ) throws(Posix.Failure) -> ChildProcess {
    let argv = [path] + arguments
    let pid = withCStrings(argv) { argvPointer in
      withCStrings(environment) { envPointer in
        var options = milo_spawn_options(
          stdin_fd: stdin, stdout_fd: stdout, stderr_fd: stderr,
          new_session: newSession ? 1 : 0, unmount_in_private_ns: nil, working_dir: nil,
          pass_fd: -1)
        if let workingDirectory {
          return workingDirectory.withCString { dir in
            options.working_dir = dir
            return milo_spawn(path, argvPointer, envPointer, &options)
          }
        }
        return milo_spawn(path, argvPointer, envPointer, &options)
      }
    }
    guard pid > 0 else { throw Posix.Failure(operation: "fork/exec", path: path, code: -pid) }
    let child = ChildProcess(pid: pid)
    Posix.detachThread(name: "reaper-\(pid)") { child.reap() }
    return child
  }

  private func reap() {
    var status: Int32 = 0
    while true {
      let rc = waitpid(pid, &status, 0)
      if rc == pid { break }
      if rc < 0 && errno == EINTR { continue }
      exit.fulfil(.unknown)
      return
    }
    if milo_wifsignaled(status) != 0 {
      exit.fulfil(.signaled(milo_wtermsig(status)))
    } else {
      exit.fulfil(.exited(milo_wexitstatus(status)))
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

/// Calls `body` with a NULL-terminated `char *[]` built from `strings`.
func withCStrings<R>(
  _ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>?) -> R
) -> R {
  var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
  pointers.append(nil)
  defer { for pointer in pointers { free(pointer) } }
  return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
}
