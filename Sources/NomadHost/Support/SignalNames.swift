import MiloSys
import NomadPlugin

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Go's signal descriptions, for exit texts as Nomad prints them.
extension SignalNames {
  /// Go's `syscall.Signal.String()` text: "killed", "terminated", "interrupt", ...
  public static func goDescription(_ number: Int32) -> String {
    switch number {
    case SIGHUP: return "hangup"
    case SIGINT: return "interrupt"
    case SIGQUIT: return "quit"
    case SIGILL: return "illegal instruction"
    case SIGTRAP: return "trace/breakpoint trap"
    case SIGABRT: return "aborted"
    case SIGBUS: return "bus error"
    case SIGFPE: return "floating point exception"
    case SIGKILL: return "killed"
    case SIGUSR1: return "user defined signal 1"
    case SIGSEGV: return "segmentation fault"
    case SIGUSR2: return "user defined signal 2"
    case SIGPIPE: return "broken pipe"
    case SIGALRM: return "alarm clock"
    case SIGTERM: return "terminated"
    default: return "signal \(number)"
    }
  }
}
