#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The plugin↔supervisor contract, both ends in one place.
///
/// - arguments: ``SupervisorOptions`` (rendered by the plugin, parsed by the supervisor);
/// - readiness: one ``ReadinessLine`` on the supervisor's standard output;
/// - signals: ``signalCarrier`` carries a signal number for the application (a queued signal's
///   value), SIGTERM asks the supervisor to kill the container and finish;
/// - exit: an ``ExitRecord`` in the task's state directory (``TaskPaths/exitRecord``);
/// - init status pipe: `milo init` writes one ``ExitStatusLine`` on descriptor 3.
public enum SupervisorContract {
  /// The version of the contract. The plugin uses a helper only when it reports the same, so a
  /// stale `milo.d/milo-task` beside a newer plugin is never used. Bump on any change.
  public static let protocolVersion = "milo-task protocol 1"

  /// The signal that carries a request to forward its payload (a signal number) to the app.
  public static let signalCarrier = SIGUSR2

  /// The signal that asks the supervisor to kill the container and finish (forced destroy).
  public static let terminateSignal = SIGTERM
}

/// The one line a supervisor writes on its standard output once the start is decided:
/// `ok <pid>` once the container runs, `error <message>` when it could not start.
public enum ReadinessLine: Sendable, Equatable {
  /// The container runs as `pid` (in the host's pid namespace).
  case ready(containerPid: Int32)
  /// The container could not start; the reason is one line.
  case failed(reason: String)

  /// The line, with its line feed; the reason's line breaks fold into " | ".
  public var text: String {
    switch self {
    case .ready(let pid): return "ok \(pid)\n"
    case .failed(let reason): return "error \(Self.oneLine(reason))\n"
    }
  }

  /// Parses a line (without its line feed); nil when it is neither form.
  public static func parse(_ line: String) -> ReadinessLine? {
    if line.hasPrefix("ok "), let pid = Int32(line.dropFirst(3)) { return .ready(containerPid: pid) }
    if line.hasPrefix("error ") { return .failed(reason: String(line.dropFirst(6))) }
    return nil
  }

  /// Folds line breaks (\n, \r) into " | " so a message fits the one-line readiness protocol.
  public static func oneLine(_ text: String) -> String {
    var bytes: [UInt8] = []
    var lastWasBreak = false
    for byte in text.utf8 {
      if byte == 0x0A || byte == 0x0D {
        if !lastWasBreak && !bytes.isEmpty { bytes += Array(" | ".utf8) }
        lastWasBreak = true
      } else {
        bytes.append(byte)
        lastWasBreak = false
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}
