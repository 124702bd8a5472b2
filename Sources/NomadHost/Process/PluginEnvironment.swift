import MiloSys
import NomadPlugin

/// The environment go-plugin gives a plugin process (`(*Client).Start`): the agent's whole
/// environment followed by the handshake variables, de-duplicated like Go's `os/exec`
/// (a later entry wins and takes the later position).
public enum PluginEnvironment {
  /// go-plugin's default `MinPort` (Nomad never sets one).
  public static let minPort = 10000
  /// go-plugin's default `MaxPort`.
  public static let maxPort = 25000

  /// The variables go-plugin appends, in its order.
  public static var handshakeVariables: [String] {
    [
      "\(Handshake.magicCookieKey)=\(Handshake.magicCookieValue)",
      "PLUGIN_MIN_PORT=\(minPort)",
      "PLUGIN_MAX_PORT=\(maxPort)",
      "PLUGIN_PROTOCOL_VERSIONS=\(PluginHandshake.supportedAppVersions.map(String.init).joined(separator: ","))",
    ]
  }

  /// `base` (default: this process's environment) plus the handshake variables.
  public static func build(base: [String]? = nil) -> [String] {
    dedup((base ?? Environment.list()) + handshakeVariables)
  }

  /// Go's `dedupEnv`: keeps the last value of each key, at the position of its last occurrence.
  /// Entries without "=" are kept as they are.
  public static func dedup(_ entries: [String]) -> [String] {
    var seen: Set<String> = []
    var kept: [String] = []
    for entry in entries.reversed() {
      guard let equals = entry.firstIndex(of: "=") else {
        kept.append(entry)
        continue
      }
      let key = String(entry[..<equals])
      if seen.insert(key).inserted { kept.append(entry) }
    }
    return kept.reversed()
  }
}
