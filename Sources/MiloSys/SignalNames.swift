#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Signal names as Nomad passes them to drivers (`SignalTask`, `StopTask`, `kill_signal`):
/// "SIGHUP", "SIGTERM", ... (consul-template's `signals.SignalLookup` on Linux).
public enum SignalNames {
  /// Linux signal numbers by name (SIGIOT is SIGABRT's other name).
  public static let byName: [String: Int32] = [
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
    return byName[upper] ?? byName["SIG" + upper]
  }

  /// The conventional name of a signal number, e.g. "SIGTERM" ("signal N" when it has none).
  public static func name(_ number: Int32) -> String {
    byName.filter { $0.value == number && $0.key != "SIGIOT" }.keys.sorted().first ?? "signal \(number)"
  }
}
