/// The go-plugin handshake between a host (Nomad) and a plugin process.
public enum Handshake {
  /// The environment variable Nomad sets to prove that it, not a person, started the plugin.
  public static let magicCookieKey = "NOMAD_PLUGIN_MAGIC_COOKIE"
  /// The value Nomad puts in `magicCookieKey`.
  public static let magicCookieValue =
    "e4327c2e01eabfd75a8a67adb114fb34a757d57eee7728d857a8cec6e91a7255"
  /// go-plugin's core protocol version.
  public static let coreProtocolVersion = 1
  /// Nomad's plugin (application) protocol version.
  public static let appProtocolVersion = 2

  /// The line a plugin prints once its socket listens, e.g. `1|2|unix|/tmp/plugin123/plugin.sock|grpc`.
  public static func line(network: String, address: String) -> String {
    "\(coreProtocolVersion)|\(appProtocolVersion)|\(network)|\(address)|grpc\n"
  }

  /// A parsed handshake line.
  public struct Parsed: Sendable, Equatable {
    public var coreVersion: Int
    public var appVersion: Int
    public var network: String
    public var address: String
    public var proto: String
  }

  /// Why a handshake line was rejected.
  public struct ParseError: Error, CustomStringConvertible, Sendable {
    public var description: String
  }

  /// Parses a handshake line the way go-plugin's client does: five `|`-separated fields, core
  /// version 1, an app version the host supports, network `unix` or `tcp`, protocol `grpc`.
  public static func parse(_ line: String, supportedAppVersions: Set<Int> = [2]) throws(ParseError)
    -> Parsed
  {
    let trimmed = String(
      line.unicodeScalars.drop(while: { $0.properties.isWhitespace }).reversed()
        .drop(while: { $0.properties.isWhitespace }).reversed().map(Character.init))
    let parts = trimmed.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
    guard parts.count >= 4 else {
      throw ParseError(description: "Unrecognized remote plugin message: \(trimmed)")
    }
    guard let core = Int(parts[0]), core == coreProtocolVersion else {
      throw ParseError(description: "Incompatible core API version with plugin: \(parts[0])")
    }
    guard let app = Int(parts[1]), supportedAppVersions.contains(app) else {
      throw ParseError(description: "Incompatible API version with plugin: \(parts[1])")
    }
    guard parts[2] == "unix" || parts[2] == "tcp" else {
      throw ParseError(description: "Unknown address type: \(parts[2])")
    }
    let proto = parts.count >= 5 ? parts[4] : "netrpc"
    guard proto == "grpc" else {
      throw ParseError(description: "Unsupported plugin protocol \(proto); expected grpc")
    }
    return Parsed(coreVersion: core, appVersion: app, network: parts[2], address: parts[3], proto: proto)
  }
}
