import Foundation
import MiloSupervisor
import MiloSys
import NomadPlugin

#if canImport(Glibc)
  import Glibc
#endif

/// milo's error texts about signals Nomad asked it to send.
extension SignalNames {
  /// An explanation for an unknown name.
  public static func unknownMessage(_ name: String) -> String {
    "unknown signal \"\(name)\": expected a name such as SIGHUP, SIGINT, SIGTERM, SIGUSR1 or SIGQUIT"
  }
}

extension SignalDisposition {
  /// What to tell a person whose signal was discarded.
  public static func discardedMessage(_ name: String) -> String {
    let upper = name.uppercased().hasPrefix("SIG") ? name.uppercased() : "SIG" + name.uppercased()
    return "\(upper) was not sent: the JVM runs as PID 1 in its container (milo's binary is not executable"
      + " by task users, so it cannot run as the container's init) and has no handler for \(upper), so the"
      + " kernel would discard it. Make the milo binary mode 0755 and restart the task, handle \(upper) in"
      + " the application (e.g. sun.misc.Signal.handle), or stop the task to end it."
  }
}
