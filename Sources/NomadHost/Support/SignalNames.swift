#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Signal names as Nomad spells them (consul-template's `signals.SignalLookup`: "SIGHUP",
/// "SIGTERM", ...) and Go's signal descriptions.
public enum SignalNames {
  /// Linux signal numbers by name.
  public static let byName: [String: Int32] = [
    "SIGABRT": SIGABRT, "SIGALRM": SIGALRM, "SIGBUS": SIGBUS, "SIGCHLD": SIGCHLD,
    "SIGCONT": SIGCONT, "SIGFPE": SIGFPE, "SIGHUP": SIGHUP, "SIGILL": SIGILL, "SIGINT": SIGINT,
    "SIGIO": SIGIO, "SIGIOT": SIGIOT, "SIGKILL": SIGKILL, "SIGPIPE": SIGPIPE, "SIGPROF": SIGPROF,
    "SIGQUIT": SIGQUIT, "SIGSEGV": SIGSEGV, "SIGSTOP": SIGSTOP, "SIGSYS": SIGSYS,
    "SIGTERM": SIGTERM, "SIGTRAP": SIGTRAP, "SIGTSTP": SIGTSTP, "SIGTTIN": SIGTTIN,
    "SIGTTOU": SIGTTOU, "SIGURG": SIGURG, "SIGUSR1": SIGUSR1, "SIGUSR2": SIGUSR2,
    "SIGVTALRM": SIGVTALRM, "SIGWINCH": SIGWINCH, "SIGXCPU": SIGXCPU, "SIGXFSZ": SIGXFSZ,
  ]

  /// The number for a name such as "SIGTERM" (also accepts "TERM"), or nil.
  public static func number(_ name: String) -> Int32? {
    let upper = name.uppercased()
    return byName[upper] ?? byName["SIG" + upper]
  }

  /// The conventional name of a signal number, e.g. "SIGTERM".
  public static func name(_ number: Int32) -> String {
    byName.filter { $0.value == number && $0.key != "SIGIOT" }.keys.sorted().first
      ?? "signal \(number)"
  }

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
