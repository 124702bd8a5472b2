import MiloSys

/// The one line `milo init` writes for the supervisor: `exit <code>` or `signal <number>`.
public enum ExitStatusLine {
  /// The line for a raw wait status.
  public static func render(_ status: Int32) -> String {
    let decoded = WaitStatus(status)
    if let signal = decoded.signal { return "signal \(signal)\n" }
    return "exit \(decoded.exitCode ?? 0)\n"
  }

  /// A raw wait status equivalent to the line (nil when it is not one): `exit 3` → 3 << 8,
  /// `signal 9` → 9.
  public static func parse(_ text: String) -> Int32? {
    let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
    guard parts.count == 2, let value = Int32(parts[1]), (0...255).contains(value) else { return nil }
    switch parts[0] {
    case "exit": return value << 8
    case "signal" where value > 0 && value < 128: return value
    default: return nil
    }
  }
}
