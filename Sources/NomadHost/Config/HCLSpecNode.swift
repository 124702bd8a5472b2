import NomadProto

/// A decoded hclspec `Spec` tree (Nomad's `hclspecutils.Convert`).
public indirect enum HCLSpecNode: Sendable, Equatable {
  case object([String: HCLSpecNode])
  case array([HCLSpecNode])
  case attr(name: String, type: CtyTypeSpec, required: Bool)
  case block(name: String, required: Bool, nested: HCLSpecNode)
  case blockAttrs(name: String, type: CtyTypeSpec, required: Bool)
  case blockList(name: String, minItems: Int, maxItems: Int, nested: HCLSpecNode)
  case blockSet(name: String, minItems: Int, maxItems: Int, nested: HCLSpecNode)
  case blockMap(name: String, labels: [String], nested: HCLSpecNode)
  case `default`(primary: HCLSpecNode, fallback: HCLSpecNode)
  case literal(CtyValue)

  /// Converts the protobuf spec; literal values are parsed as HCL expressions.
  public init(_ spec: HCLSpecProto) throws(ConfigError) {
    switch spec.block {
    case .object(let object):
      var attributes: [String: HCLSpecNode] = [:]
      for (name, child) in object.attributes { attributes[name] = try HCLSpecNode(child) }
      self = .object(attributes)
    case .array(let array):
      var values: [HCLSpecNode] = []
      for child in array.values { values.append(try HCLSpecNode(child)) }
      self = .array(values)
    case .attr(let attr):
      guard !attr.name.isEmpty else { throw ConfigError("Missing name in attribute spec") }
      self = .attr(name: attr.name, type: try CtyTypeSpec.parse(attr.type), required: attr.required)
    case .blockValue(let block):
      guard !block.name.isEmpty else { throw ConfigError("Missing name in block spec") }
      self = .block(name: block.name, required: block.required, nested: try HCLSpecNode(block.nested))
    case .blockAttrs(let block):
      self = .blockAttrs(name: block.name, type: try CtyTypeSpec.parse(block.type), required: block.required)
    case .blockList(let block):
      self = .blockList(
        name: block.name, minItems: Int(block.minItems), maxItems: Int(block.maxItems),
        nested: try HCLSpecNode(block.nested))
    case .blockSet(let block):
      self = .blockSet(
        name: block.name, minItems: Int(block.minItems), maxItems: Int(block.maxItems),
        nested: try HCLSpecNode(block.nested))
    case .blockMap(let block):
      self = .blockMap(name: block.name, labels: block.labels, nested: try HCLSpecNode(block.nested))
    case .default(let wrapper):
      self = .default(primary: try HCLSpecNode(wrapper.primary), fallback: try HCLSpecNode(wrapper.default))
    case .literal(let literal):
      self = .literal(try HCLLiteral.parse(literal.value))
    case .none:
      throw ConfigError("Empty spec")
    }
  }

  /// Attribute names and block type names a body decoded with this spec may contain
  /// (hcldec's `ImpliedSchema`).
  var impliedSchema: (attributes: [String: Bool], blocks: Set<String>) {
    var attributes: [String: Bool] = [:]
    var blocks: Set<String> = []
    func walk(_ node: HCLSpecNode) {
      switch node {
      case .object(let children): children.values.forEach(walk)
      case .array(let children): children.forEach(walk)
      case .attr(let name, _, let required): attributes[name] = required || (attributes[name] ?? false)
      case .block(let name, _, _), .blockAttrs(let name, _, _), .blockList(let name, _, _, _),
        .blockSet(let name, _, _, _), .blockMap(let name, _, _):
        blocks.insert(name)
      case .default(let primary, let fallback):
        walk(primary)
        walk(fallback)
      case .literal: break
      }
    }
    walk(self)
    return (attributes, blocks)
  }
}
