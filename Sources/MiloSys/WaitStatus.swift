import CMiloSys

/// A `wait(2)` status word, decoded once for every module.
public struct WaitStatus: Sendable, Equatable {
  /// The raw status word.
  public var raw: Int32

  public init(_ raw: Int32) { self.raw = raw }

  /// The exit code, when the process exited normally.
  public var exitCode: Int32? { milo_wifexited(raw) != 0 ? milo_wexitstatus(raw) : nil }
  /// The signal that ended the process, when one did.
  public var signal: Int32? { milo_wifsignaled(raw) != 0 ? milo_wtermsig(raw) : nil }

  /// A shell's `$?`: the exit code, or 128 + signal; -1 for a status that is neither.
  public var shellExitCode: Int32 {
    if let exitCode { return exitCode }
    if let signal { return 128 + signal }
    return -1
  }
}
