import NomadPlugin

/// The go-plugin handshake line a plugin prints on stdout, parsed with go-plugin's client rules
/// (hashicorp/go-plugin `client.go`, `(*Client).Start`), including its error texts.
public struct PluginHandshake: Sendable, Equatable {
  /// go-plugin's core protocol (must be 1).
  public var coreProtocol: Int
  /// The application protocol the plugin chose (Nomad supports only 2).
  public var appProtocol: Int
  /// "unix" or "tcp".
  public var network: String
  /// The socket path or host:port.
  public var address: String
  /// The RPC protocol; Nomad accepts only "grpc".
  public var protocolName: String

  /// go-plugin's `CoreProtocolVersion`.
  public static let coreProtocolVersion = 1
  /// The application protocol versions Nomad offers (`VersionedPlugins` keys).
  public static let supportedAppVersions = [2]
  /// Nomad's `AllowedProtocols`.
  public static let allowedProtocols = ["grpc"]

  public init(coreProtocol: Int, appProtocol: Int, network: String, address: String, protocolName: String) {
    self.coreProtocol = coreProtocol
    self.appProtocol = appProtocol
    self.network = network
    self.address = address
    self.protocolName = protocolName
  }

  /// Parses the first stdout line.
  ///
  /// - Parameters:
  ///   - line: the line as read (it is trimmed like `strings.TrimSpace`).
  ///   - stdoutClosed: true when stdout ended without a line (go-plugin then adds "Failed to read
  ///     any lines from plugin's stdout").
  ///   - diagnostics: go-plugin's `runner.Diagnose` text, appended to unrecognized-line errors.
  public static func parse(
    _ line: String, stdoutClosed: Bool = false, diagnostics: String = ""
  ) throws(PluginStartError) -> PluginHandshake {
    let trimmed = line.trimmingGoSpace()
    let parts = trimmed.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
    guard parts.count >= 4 else {
      var text = "Unrecognized remote plugin message: \(trimmed)"
      if stdoutClosed { text += "\nFailed to read any lines from plugin's stdout" }
      if !diagnostics.isEmpty { text += "\n" + diagnostics }
      throw PluginStartError(text)
    }
    guard let core = goAtoi(parts[0]) else {
      throw PluginStartError(
        "error parsing core protocol version: strconv.Atoi: parsing \(goQuote(parts[0])): \(atoiProblem(parts[0]))")
    }
    guard core == coreProtocolVersion else {
      throw PluginStartError(
        "incompatible core API version with plugin. Plugin version: \(parts[0]), Core version: "
          + "\(coreProtocolVersion)\n\nTo fix this, the plugin usually only needs to be recompiled.\n"
          + "Please report this to the plugin author")
    }
    guard let app = goAtoi(parts[1]) else {
      throw PluginStartError(
        "Error parsing protocol version \(goQuote(parts[1])): strconv.Atoi: parsing "
          + "\(goQuote(parts[1])): \(atoiProblem(parts[1]))")
    }
    guard supportedAppVersions.contains(app) else {
      throw PluginStartError(
        "incompatible API version with plugin. Plugin version: \(app), Client versions: "
          + "[\(supportedAppVersions.map(String.init).joined(separator: " "))]")
    }
    let network = parts[2]
    let address = parts[3]
    switch network {
    case "unix":
      break
    case "tcp":
      if let problem = tcpAddressProblem(address) { throw PluginStartError(problem) }
    default:
      throw PluginStartError("unknown address type: \(address)")
    }
    let protocolName = parts.count >= 5 ? parts[4] : "netrpc"
    guard allowedProtocols.contains(protocolName) else {
      throw PluginStartError(
        "unsupported plugin protocol \(goQuote(protocolName)). Supported: [\(allowedProtocols.joined(separator: " "))]")
    }
    if parts.count >= 6 && parts[5].utf8.count > 50 {
      // go-plugin would switch to TLS with this certificate; Nomad never enables AutoMTLS, so a
      // plugin sending one is misconfigured, and NomadHost does not implement plugin TLS.
      throw PluginStartError("error parsing server cert: plugin TLS is not supported by NomadHost")
    }
    return PluginHandshake(
      coreProtocol: core, appProtocol: app, network: network, address: address, protocolName: protocolName)
  }

  /// Host and port of a "tcp" address.
  public var tcpHostPort: (host: String, port: Int)? {
    guard network == "tcp", let colon = address.lastIndex(of: ":") else { return nil }
    var host = String(address[..<colon])
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    guard let port = Int(address[address.index(after: colon)...]) else { return nil }
    return (host.isEmpty ? "127.0.0.1" : host, port)
  }

  private static func tcpAddressProblem(_ address: String) -> String? {
    guard let colon = address.lastIndex(of: ":") else {
      return "address \(address): missing port in address"
    }
    let port = address[address.index(after: colon)...]
    guard let value = Int(port), (0...65535).contains(value) else {
      return "address \(address): invalid port"
    }
    return nil
  }

  /// strconv.Atoi: optional sign, decimal digits, fits in Int.
  static func goAtoi(_ text: String) -> Int? {
    guard !text.isEmpty else { return nil }
    var digits = Substring(text)
    if digits.first == "+" || digits.first == "-" { digits = digits.dropFirst() }
    guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
    return Int(text)
  }

  private static func atoiProblem(_ text: String) -> String {
    var digits = Substring(text)
    if digits.first == "+" || digits.first == "-" { digits = digits.dropFirst() }
    if !digits.isEmpty && digits.allSatisfy({ $0.isASCII && $0.isNumber }) { return "value out of range" }
    return "invalid syntax"
  }
}

/// Why a plugin could not be started; `description` is go-plugin's error text.
public struct PluginStartError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The error text.
  public var message: String

  public init(_ message: String) { self.message = message }

  public var description: String { message }
}

/// Go's `%q` for simple strings.
func goQuote(_ text: String) -> String {
  StringQuoting.quoted(text, .go)
}

extension String {
  /// `strings.TrimSpace`: strips leading and trailing Unicode white space.
  func trimmingGoSpace() -> String {
    var scalars = Substring(self).unicodeScalars[...]
    while let first = scalars.first, first.properties.isWhitespace { scalars = scalars.dropFirst() }
    while let last = scalars.last, last.properties.isWhitespace { scalars = scalars.dropLast() }
    return String(String.UnicodeScalarView(scalars))
  }
}
