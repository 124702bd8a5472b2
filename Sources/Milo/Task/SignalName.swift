#if canImport(Glibc)
  import Glibc
#endif

/// Signal names as Nomad passes them (`SIGINT`, `SIGHUP`, ...).
public enum SignalName {
  static let table: [String: Int32] = [
    "SIGHUP": SIGHUP, "SIGINT": SIGINT, "SIGQUIT": SIGQUIT, "SIGILL": SIGILL, "SIGTRAP": SIGTRAP,
    "SIGABRT": SIGABRT, "SIGIOT": SIGABRT, "SIGBUS": SIGBUS, "SIGFPE": SIGFPE, "SIGKILL": SIGKILL,
    "SIGUSR1": SIGUSR1, "SIGSEGV": SIGSEGV, "SIGUSR2": SIGUSR2, "SIGPIPE": SIGPIPE,
    "SIGALRM": SIGALRM, "SIGTERM": SIGTERM, "SIGSTKFLT": SIGSTKFLT, "SIGCHLD": SIGCHLD,
    "SIGCONT": SIGCONT, "SIGSTOP": SIGSTOP, "SIGTSTP": SIGTSTP, "SIGTTIN": SIGTTIN,
    "SIGTTOU": SIGTTOU, "SIGURG": SIGURG, "SIGXCPU": SIGXCPU, "SIGXFSZ": SIGXFSZ,
    "SIGVTALRM": SIGVTALRM, "SIGPROF": SIGPROF, "SIGWINCH": SIGWINCH, "SIGIO": SIGIO,
    "SIGPWR": SIGPWR, "SIGSYS": SIGSYS,
  ]

  /// The number for a name (`SIGHUP`, `HUP` or `hup`); nil when unknown.
  public static func number(_ name: String) -> Int32? {
    let upper = name.uppercased()
    return table[upper] ?? table["SIG" + upper]
  }

  /// An explanation for an unknown name.
  public static func unknownMessage(_ name: String) -> String {
    "unknown signal \"\(name)\": expected a name such as SIGHUP, SIGINT, SIGTERM, SIGUSR1 or SIGQUIT"
  }
}
