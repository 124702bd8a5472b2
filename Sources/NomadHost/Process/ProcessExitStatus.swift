import MiloSys
import NomadPlugin

/// How a child process ended, as `waitpid(2)` reports it.
public enum ProcessExitStatus: Sendable, Equatable, CustomStringConvertible {
  /// Normal exit with this code.
  case exited(Int32)
  /// Killed by this signal.
  case signaled(Int32)
  /// Someone else reaped the process (ECHILD), so its status is unknown.
  case unknown

  /// Go's `*exec.ExitError` text: "exit status N" or "signal: killed".
  public var description: String {
    switch self {
    case .exited(let code): return "exit status \(code)"
    case .signaled(let signal): return "signal: \(SignalNames.goDescription(signal))"
    case .unknown: return "exit status unknown"
    }
  }
}
