import NomadPlugin

/// Encodes configuration the way Nomad does before handing it to a plugin: the job's (or agent's)
/// config is parsed with the plugin's hclspec (`hclutils.ParseHclInterface`: every schema
/// attribute present, nil when unset, defaults from literals, values converted to the attribute
/// type, `${...}` interpolated) and marshalled as go-cty msgpack with sorted keys.
public enum ConfigEncoder {
  /// Parses a task's `config` for `TaskConfig.msgpack_driver_config`.
  ///
  /// A nil config fails like Nomad (`Root value must be object`). So does an empty one: Nomad's
  /// HCL job parser turns `config {}` into no config at all (hashicorp/nomad#9497).
  public static func parseTaskConfig(
    _ config: [String: MsgpackValue]?, spec: HCLSpecProto?, variables: HCLVariables
  ) throws(ConfigParseError) -> CtyValue {
    guard let config, !config.isEmpty else {
      throw ConfigParseError(kind: .task, diagnostics: [.rootValueMustBeObject])
    }
    return try parse(config, spec: spec, variables: variables, kind: .task)
  }

  /// `parseTaskConfig` then go-cty msgpack.
  public static func encodeTaskConfig(
    _ config: [String: MsgpackValue]?, spec: HCLSpecProto?, variables: HCLVariables
  ) throws(ConfigParseError) -> [UInt8] {
    msgpack(try parseTaskConfig(config, spec: spec, variables: variables))
  }

  /// Parses an agent `plugin "x" { config {...} }` block (`validatePluginConfig`): nil becomes
  /// `{}`, no variables are available.
  public static func parsePluginConfig(_ config: [String: MsgpackValue]?, spec: HCLSpecProto)
    throws(ConfigParseError) -> CtyValue
  {
    try parse(config ?? [:], spec: spec, variables: nil, kind: .plugin)
  }

  /// `parsePluginConfig` then go-cty msgpack.
  public static func encodePluginConfig(_ config: [String: MsgpackValue]?, spec: HCLSpecProto)
    throws(ConfigParseError) -> [UInt8]
  {
    msgpack(try parsePluginConfig(config, spec: spec))
  }

  /// go-cty msgpack bytes of a value.
  public static func msgpack(_ value: CtyValue) -> [UInt8] {
    (try? MsgpackEncoder().encode(value.msgpack)) ?? [0xc0]
  }

  private static func parse(
    _ config: [String: MsgpackValue], spec: HCLSpecProto?, variables: HCLVariables?,
    kind: ConfigParseError.Kind
  ) throws(ConfigParseError) -> CtyValue {
    let node: HCLSpecNode
    do {
      node = try spec.map { proto throws(ConfigError) in try HCLSpecNode(proto) } ?? .object([:])
    } catch {
      throw ConfigParseError(
        kind: kind,
        diagnostics: [
          HCLDiagnostic(summary: "Invalid schema", detail: error.message)
        ])
    }
    var body: [String: CtyValue] = [:]
    for (key, value) in config { body[key] = CtyValue.fromConfig(value) }
    var decoder = HCLBodyDecoder(variables: variables)
    let value = decoder.decode(body: body, spec: node)
    if !decoder.diagnostics.isEmpty {
      throw ConfigParseError(kind: kind, diagnostics: decoder.diagnostics)
    }
    return value
  }
}

/// HCL diagnostics from parsing a config, rendered as Nomad's multierror text.
public struct ConfigParseError: Error, CustomStringConvertible, Sendable, Equatable {
  /// Where the config came from (the texts differ).
  public enum Kind: Sendable, Equatable {
    /// A job's task config (`TaskRunner.runDriver`).
    case task
    /// An agent plugin config (`validatePluginConfig`).
    case plugin
  }

  public var kind: Kind
  public var diagnostics: [HCLDiagnostic]

  public init(kind: Kind, diagnostics: [HCLDiagnostic]) {
    self.kind = kind
    self.diagnostics = diagnostics
  }

  /// The error as Nomad shows it. For a task config this is
  /// `multierror.Append(errors.New("failed to parse config: "), diags...)`; for a plugin config
  /// `multierror.Prefix(diags, "failed to parse config: ")`.
  public var description: String {
    switch kind {
    case .task:
      return GoMultiError.format(["failed to parse config: "] + diagnostics.map(\.description))
    case .plugin:
      return GoMultiError.format(diagnostics.map { "failed to parse config:  \($0.description)" })
    }
  }
}

extension HCLDiagnostic {
  /// HCL's JSON parser on a `null` document.
  public static let rootValueMustBeObject = HCLDiagnostic(
    summary: "Root value must be object",
    detail: "The root value in a JSON-based configuration must be either a JSON object or a JSON array of objects.")
}

/// hashicorp/go-multierror's `ListFormatFunc`.
public enum GoMultiError {
  public static func format(_ errors: [String]) -> String {
    if errors.count == 1 { return "1 error occurred:\n\t* \(errors[0])\n\n" }
    let points = errors.map { "* \($0)" }.joined(separator: "\n\t")
    return "\(errors.count) errors occurred:\n\t\(points)\n\n"
  }
}
