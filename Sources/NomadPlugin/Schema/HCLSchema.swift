import NomadProto

/// The hclspec `Spec` message, which Nomad uses to parse `config {}` blocks.
public typealias HCLSpec = Hashicorp_Nomad_Plugins_Shared_Hclspec_Spec

/// One attribute of a flat configuration schema.
public struct HCLAttribute: Sendable, Equatable {
  /// The attribute name as written in HCL.
  public var name: String
  /// The cty type expression: `string`, `bool`, `number`, `list(string)`, `map(string)`, ...
  public var type: String
  /// Whether HCL must set it.
  public var required: Bool
  /// An HCL expression used when the attribute is unset (e.g. `"\"crun\""` or `"[]"`).
  public var defaultValue: String?
  /// One line of documentation (shown in README and error messages).
  public var help: String

  public init(
    _ name: String, type: String, required: Bool = false, default defaultValue: String? = nil,
    help: String = ""
  ) {
    self.name = name
    self.type = type
    self.required = required
    self.defaultValue = defaultValue
    self.help = help
  }
}

/// A flat object schema: the shape of both a driver's plugin config and its task config.
public struct HCLSchema: Sendable, Equatable {
  public var attributes: [HCLAttribute]

  public init(_ attributes: [HCLAttribute]) {
    self.attributes = attributes
  }

  /// The attribute names, in declaration order.
  public var names: [String] { attributes.map(\.name) }

  /// The schema as the hclspec message Nomad expects: an object of attrs, each wrapped in a
  /// `default` spec when it has a default.
  public var spec: HCLSpec {
    var object = Hashicorp_Nomad_Plugins_Shared_Hclspec_Object()
    for attribute in attributes {
      var attr = Hashicorp_Nomad_Plugins_Shared_Hclspec_Attr()
      attr.name = attribute.name
      attr.type = attribute.type
      attr.required = attribute.required
      var primary = HCLSpec()
      primary.block = .attr(attr)
      if let value = attribute.defaultValue {
        var literal = Hashicorp_Nomad_Plugins_Shared_Hclspec_Literal()
        literal.value = value
        var literalSpec = HCLSpec()
        literalSpec.block = .literal(literal)
        var wrapper = Hashicorp_Nomad_Plugins_Shared_Hclspec_Default()
        wrapper.primary = primary
        wrapper.default = literalSpec
        var spec = HCLSpec()
        spec.block = .default(wrapper)
        object.attributes[attribute.name] = spec
      } else {
        object.attributes[attribute.name] = primary
      }
    }
    var root = HCLSpec()
    root.block = .object(object)
    return root
  }
}
