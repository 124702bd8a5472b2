import CMiloSys

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Starts processes with exact control over their descriptors, session and mount namespace.
public enum Spawn {
  /// Where the child's standard streams come from.
  public struct Stdio: Sendable {
    public var stdin: Int32 = -1
    public var stdout: Int32 = -1
    public var stderr: Int32 = -1
    public init(stdin: Int32 = -1, stdout: Int32 = -1, stderr: Int32 = -1) {
      self.stdin = stdin
      self.stdout = stdout
      self.stderr = stderr
    }
  }

  /// Starts `argv[0]` (an absolute path) and returns its pid. Descriptors other than the three
  /// given (and `passFD`, which becomes the child's descriptor 3) are not inherited; signal
  /// dispositions start at their defaults.
  public static func start(
    _ argv: [String], environment: [String], stdio: Stdio, newSession: Bool = false,
    hideMount: String? = nil, workingDirectory: String? = nil, passFD: Int32 = -1
  ) throws(SystemError) -> pid_t {
    guard let path = argv.first else { throw SystemError("spawn", errno: EINVAL) }
    let cArgs = argv.map { strdup($0) } + [nil]
    let cEnv = environment.map { strdup($0) } + [nil]
    defer {
      cArgs.forEach { free($0) }
      cEnv.forEach { free($0) }
    }
    let pid: pid_t = path.withCString { cPath in
      withOptionalCString(hideMount) { cHide in
        withOptionalCString(workingDirectory) { cDir in
          var options = milo_spawn_options(
            stdin_fd: stdio.stdin, stdout_fd: stdio.stdout, stderr_fd: stdio.stderr,
            new_session: newSession ? 1 : 0, unmount_in_private_ns: cHide, working_dir: cDir,
            pass_fd: passFD)
          return cArgs.withUnsafeBufferPointer { args in
            cEnv.withUnsafeBufferPointer { env in
              milo_spawn(cPath, args.baseAddress, env.baseAddress, &options)
            }
          }
        }
      }
    }
    guard pid > 0 else { throw SystemError("start \(path)", errno: -pid) }
    return pid
  }

  /// Runs a command to completion, capturing its combined output (up to 64 KiB).
  public static func run(_ argv: [String], environment: [String], hideMount: String? = nil)
    throws(SystemError) -> (status: Int32, output: String)
  {
    let output = try Posix.pipe()
    let pid: pid_t
    do {
      pid = try start(
        argv, environment: environment, stdio: Stdio(stdout: output.write, stderr: output.write),
        hideMount: hideMount)
    } catch {
      close(output.read)
      close(output.write)
      throw error
    }
    close(output.write)
    var captured: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
      let n = chunk.withUnsafeMutableBytes { read(output.read, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      if captured.count < 64 << 10 { captured.append(contentsOf: chunk[0..<n]) }
    }
    close(output.read)
    return (waitFor(pid), String(decoding: captured, as: UTF8.self))
  }

  /// Waits for a child and returns its raw wait status (-1 when it cannot be waited for);
  /// `WaitStatus` decodes it.
  public static func waitFor(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
      if errno != EINTR { return -1 }
    }
    return status
  }

  private static func withOptionalCString<R>(
    _ value: String?, _ body: (UnsafePointer<CChar>?) -> R
  ) -> R {
    guard let value else { return body(nil) }
    return value.withCString { body($0) }
  }
}
