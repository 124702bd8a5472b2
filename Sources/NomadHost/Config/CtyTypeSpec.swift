/// A cty type, as written in hclspec `attr.type` strings (`string`, `list(string)`,
/// `map(number)`, `object({a=string})`, `any`, ...).
public indirect enum CtyTypeSpec: Sendable, Hashable, CustomStringConvertible {
  case string
  case number
  case bool
  /// `any` (cty.DynamicPseudoType).
  case dynamic
  case list(CtyTypeSpec)
  case set(CtyTypeSpec)
  case map(CtyTypeSpec)
  case tuple([CtyTypeSpec])
  case object([String: CtyTypeSpec])

  /// Whether this is string, number or bool.
  public var isPrimitive: Bool {
    switch self {
    case .string, .number, .bool: return true
    default: return false
    }
  }

  /// Whether this is a list, set or map.
  public var isCollection: Bool {
    switch self {
    case .list, .set, .map: return true
    default: return false
    }
  }

  /// The element type of a list, set or map.
  public var elementType: CtyTypeSpec? {
    switch self {
    case .list(let element), .set(let element), .map(let element): return element
    default: return nil
    }
  }

  /// Whether the type contains `any` anywhere.
  public var hasDynamicTypes: Bool {
    switch self {
    case .dynamic: return true
    case .string, .number, .bool: return false
    case .list(let element), .set(let element), .map(let element): return element.hasDynamicTypes
    case .tuple(let elements): return elements.contains { $0.hasDynamicTypes }
    case .object(let attributes): return attributes.values.contains { $0.hasDynamicTypes }
    }
  }

  /// go-cty's `Type.FriendlyName()`.
  public var friendlyName: String {
    switch self {
    case .string: return "string"
    case .number: return "number"
    case .bool: return "bool"
    case .dynamic: return "dynamic"
    case .list(let element): return "list of \(element.friendlyName)"
    case .set(let element): return "set of \(element.friendlyName)"
    case .map(let element): return "map of \(element.friendlyName)"
    case .tuple: return "tuple"
    case .object: return "object"
    }
  }

  /// go-cty's `Type.FriendlyNameForConstraint()`.
  public var friendlyNameForConstraint: String {
    switch self {
    case .dynamic: return "any type"
    case .list(let element): return "list of \(element.constraintElementName)"
    case .set(let element): return "set of \(element.constraintElementName)"
    case .map(let element): return "map of \(element.constraintElementName)"
    default: return friendlyName
    }
  }

  private var constraintElementName: String {
    self == .dynamic ? "any single type" : friendlyNameForConstraint
  }

  /// The type expression, e.g. `list(string)`.
  public var description: String {
    switch self {
    case .string: return "string"
    case .number: return "number"
    case .bool: return "bool"
    case .dynamic: return "any"
    case .list(let element): return "list(\(element))"
    case .set(let element): return "set(\(element))"
    case .map(let element): return "map(\(element))"
    case .tuple(let elements): return "tuple([\(elements.map(\.description).joined(separator: ", "))])"
    case .object(let attributes):
      let body = attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
      return "object({\(body)})"
    }
  }

  /// Parses a type expression as Nomad's `hclspecutils` does (hcl `typeexpr.TypeConstraint`).
  public static func parse(_ text: String) throws(ConfigError) -> CtyTypeSpec {
    var parser = TypeExprParser(Array(text.unicodeScalars))
    let type = try parser.parseType()
    parser.skipSpace()
    guard parser.atEnd else { throw ConfigError("invalid type expression \(goQuote(text))") }
    return type
  }
}

private struct TypeExprParser: ScalarCursor {
  let scalars: [Unicode.Scalar]
  var index = 0

  init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

  private mutating func identifier() -> String {
    skipSpace()
    return scanIdentifier()
  }

  private mutating func expect(_ scalar: Unicode.Scalar) throws(ConfigError) {
    skipSpace()
    guard index < scalars.count, scalars[index] == scalar else {
      throw ConfigError("invalid type expression: expected \"\(scalar)\"")
    }
    index += 1
  }

  private mutating func peek(_ scalar: Unicode.Scalar) -> Bool {
    skipSpace()
    return index < scalars.count && scalars[index] == scalar
  }

  mutating func parseType() throws(ConfigError) -> CtyTypeSpec {
    let name = identifier()
    switch name {
    case "string": return .string
    case "number": return .number
    case "bool": return .bool
    case "any": return .dynamic
    case "list", "set", "map":
      var element = CtyTypeSpec.dynamic
      if peek("(") {
        try expect("(")
        element = try parseType()
        try expect(")")
      }
      switch name {
      case "list": return .list(element)
      case "set": return .set(element)
      default: return .map(element)
      }
    case "tuple":
      try expect("(")
      try expect("[")
      var elements: [CtyTypeSpec] = []
      while !peek("]") {
        elements.append(try parseType())
        if peek(",") { try expect(",") }
      }
      try expect("]")
      try expect(")")
      return .tuple(elements)
    case "object":
      try expect("(")
      try expect("{")
      var attributes: [String: CtyTypeSpec] = [:]
      while !peek("}") {
        let key = identifier()
        guard !key.isEmpty else { throw ConfigError("invalid type expression: expected an attribute name") }
        skipSpace()
        if peek("=") { try expect("=") } else { try expect(":") }
        attributes[key] = try parseType()
        if peek(",") { try expect(",") }
      }
      try expect("}")
      try expect(")")
      return .object(attributes)
    default:
      throw ConfigError("invalid type expression: unknown type \(goQuote(name))")
    }
  }
}

/// A configuration problem outside HCL diagnostics (bad schema, unparsable literal...).
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}
