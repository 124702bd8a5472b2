/// go-cty's `convert.Convert` for the value shapes HCL's JSON syntax produces, with go-cty's error
/// texts (`MismatchMessage` and the primitive conversion errors).
enum CtyConversion {
  struct Failure: Error, Equatable {
    var message: String
  }

  static func convert(_ value: CtyValue, to want: CtyTypeSpec) throws(Failure) -> CtyValue {
    if value.isNull || want == .dynamic { return value }
    // go-cty first looks for a conversion between the types; without one the error describes
    // the whole value (e.g. "element 0: string required, but have tuple").
    guard convertible(value.impliedType, want) else { throw mismatch(value, want) }
    switch want {
    case .string:
      switch value {
      case .string: return value
      case .number(let number): return .string(number.plainText)
      case .bool(let flag): return .string(flag ? "true" : "false")
      default: throw mismatch(value, want)
      }
    case .number:
      switch value {
      case .number: return value
      case .string(let text):
        guard let number = CtyNumber(parsing: text) else { throw Failure(message: "a number is required") }
        return .number(number)
      default: throw mismatch(value, want)
      }
    case .bool:
      switch value {
      case .bool: return value
      case .string(let text):
        switch text {
        case "true", "1": return .bool(true)
        case "false", "0": return .bool(false)
        default:
          switch text.lowercased() {
          case "true":
            throw Failure(message: "a bool is required; to convert from string, use lowercase \"true\"")
          case "false":
            throw Failure(message: "a bool is required; to convert from string, use lowercase \"false\"")
          default:
            throw Failure(message: "a bool is required")
          }
        }
      default: throw mismatch(value, want)
      }
    case .list(let element), .set(let element):
      let items: [CtyValue]
      switch value {
      case .tuple(let values), .list(let values), .set(let values): items = values
      default: throw mismatch(value, want)
      }
      var converted: [CtyValue] = []
      for item in items { converted.append(try convert(item, to: element)) }
      if element == .dynamic {
        let kinds = Set(converted.filter { !$0.isNull }.map(\.impliedType))
        if kinds.count > 1 {
          throw Failure(message: "all \(isSet(want) ? "set" : "list") elements must have the same type")
        }
      }
      if isSet(want) { return .set(canonicalSet(converted)) }
      return .list(converted)
    case .map(let element):
      let entries: [String: CtyValue]
      switch value {
      case .object(let values), .map(let values): entries = values
      default: throw mismatch(value, want)
      }
      var converted: [String: CtyValue] = [:]
      for (key, item) in entries { converted[key] = try convert(item, to: element) }
      if element == .dynamic, Set(converted.values.filter { !$0.isNull }.map(\.impliedType)).count > 1 {
        throw Failure(message: "all map elements must have the same type")
      }
      return .map(converted)
    case .tuple(let elements):
      guard case .tuple(let items) = value, items.count == elements.count else { throw mismatch(value, want) }
      var converted: [CtyValue] = []
      for (item, element) in zip(items, elements) { converted.append(try convert(item, to: element)) }
      return .tuple(converted)
    case .object(let attributes):
      let entries: [String: CtyValue]
      switch value {
      case .object(let values), .map(let values): entries = values
      default: throw mismatch(value, want)
      }
      let missing = attributes.keys.filter { entries[$0] == nil }.sorted()
      if !missing.isEmpty { throw Failure(message: missingAttributes(missing)) }
      var converted: [String: CtyValue] = [:]
      for (key, type) in attributes {
        converted[key] = try convert(entries[key] ?? .null, to: type)
      }
      return .object(converted)
    case .dynamic:
      return value
    }
  }

  private static func isSet(_ type: CtyTypeSpec) -> Bool {
    if case .set = type { return true }
    return false
  }

  /// cty sets have no duplicates; primitive elements iterate in a canonical order.
  private static func canonicalSet(_ items: [CtyValue]) -> [CtyValue] {
    var unique: [CtyValue] = []
    for item in items where !unique.contains(item) { unique.append(item) }
    return unique.sorted { lhs, rhs in
      switch (lhs, rhs) {
      case (.string(let a), .string(let b)): return a.utf8.lexicographicallyPrecedes(b.utf8)
      case (.number(let a), .number(let b)): return a.double < b.double
      case (.bool(let a), .bool(let b)): return !a && b
      default: return false
      }
    }
  }

  static func mismatch(_ value: CtyValue, _ want: CtyTypeSpec) -> Failure {
    Failure(message: mismatchMessage(got: value.impliedType, want: want))
  }

  /// go-cty's `convert.MismatchMessage`.
  static func mismatchMessage(got: CtyTypeSpec, want: CtyTypeSpec) -> String {
    switch (got, want) {
    case (.object(let gotAttributes), .object(let wantAttributes)):
      let missing = wantAttributes.keys.filter { gotAttributes[$0] == nil }.sorted()
      if !missing.isEmpty { return missingAttributes(missing) }
      for name in wantAttributes.keys.sorted() {
        if let g = gotAttributes[name], let w = wantAttributes[name], g != w, !convertible(g, w) {
          return "attribute \(goQuote(name)): \(mismatchMessage(got: g, want: w))"
        }
      }
      return "incorrect object attributes"
    case (.tuple, .list(.dynamic)):
      return "all list elements must have the same type"
    case (.tuple, .set(.dynamic)):
      return "all set elements must have the same type"
    case (.object, .map(.dynamic)):
      return "all map elements must have the same type"
    default:
      break
    }
    let gotStructural: Bool = {
      switch got {
      case .tuple, .object: return true
      default: return false
      }
    }()
    if gotStructural && want.isCollection {
      switch (got, want) {
      case (.tuple(let elements), .list(let element)), (.tuple(let elements), .set(let element)):
        for (index, item) in elements.enumerated() where item != element && !convertible(item, element) {
          return "element \(index): \(mismatchMessage(got: item, want: element))"
        }
        return "all elements must be \(element.friendlyNameForConstraint)"
      case (.object(let attributes), .map(let element)):
        for name in attributes.keys.sorted() {
          if let item = attributes[name], item != element, !convertible(item, element) {
            return "element \(goQuote(name)): \(mismatchMessage(got: item, want: element))"
          }
        }
        return "all elements must be \(element.friendlyNameForConstraint)"
      default:
        return want.friendlyNameForConstraint + " required"
      }
    }
    if got.isCollection && want.isCollection, let gotElement = got.elementType,
      let wantElement = want.elementType
    {
      switch (got, want) {
      case (.list, .map), (.set, .map), (.map, .list), (.map, .set):
        return want.friendlyNameForConstraint + " required"
      default:
        break
      }
      let noun: String
      switch want {
      case .list: noun = "list element type"
      case .set: noun = "set element type"
      default: noun = "map element type"
      }
      return "incorrect \(noun): \(mismatchMessage(got: gotElement, want: wantElement))"
    }
    if !likelyToConfuse(got: got, want: want) {
      return "\(want.friendlyName) required, but have \(got.friendlyName)"
    }
    return want.friendlyNameForConstraint + " required"
  }

  private static func missingAttributes(_ missing: [String]) -> String {
    switch missing.count {
    case 1: return "attribute \(goQuote(missing[0])) is required"
    case 2: return "attributes \(goQuote(missing[0])) and \(goQuote(missing[1])) are required"
    default:
      let head = missing.dropLast().map { goQuote($0) + ", " }.joined()
      return "attributes \(head)and \(goQuote(missing[missing.count - 1])) are required"
    }
  }

  /// Whether go-cty has an (unsafe) conversion between the types.
  static func convertible(_ got: CtyTypeSpec, _ want: CtyTypeSpec) -> Bool {
    if got == want || want == .dynamic || got == .dynamic { return true }
    switch (got, want) {
    case (.number, .string), (.bool, .string), (.string, .number), (.string, .bool): return true
    case (.tuple(let items), .list(let element)), (.tuple(let items), .set(let element)):
      return items.allSatisfy { convertible($0, element) }
    case (.list(let a), .list(let b)), (.set(let a), .set(let b)), (.list(let a), .set(let b)),
      (.set(let a), .list(let b)), (.map(let a), .map(let b)):
      return convertible(a, b)
    case (.object(let attributes), .map(let element)):
      return attributes.values.allSatisfy { convertible($0, element) }
    case (.tuple(let a), .tuple(let b)):
      return a.count == b.count && zip(a, b).allSatisfy { convertible($0, $1) }
    case (.object(let a), .object(let b)):
      return b.allSatisfy { key, type in a[key].map { convertible($0, type) } ?? false }
    default:
      return false
    }
  }

  /// go-cty's `typesAreLikelyToCauseConfusion`.
  private static func likelyToConfuse(got: CtyTypeSpec, want: CtyTypeSpec) -> Bool {
    if got.isPrimitive != want.isPrimitive { return false }
    if want == .string { return false }
    if (want == .bool && got == .number) || (got == .bool && want == .number) { return false }
    if got.isCollection && want.isCollection, let g = got.elementType, let w = want.elementType,
      !g.hasDynamicTypes && w.hasDynamicTypes
    {
      return false
    }
    switch (got, want) {
    case (.tuple, .object): return false
    default: return true
    }
  }
}
