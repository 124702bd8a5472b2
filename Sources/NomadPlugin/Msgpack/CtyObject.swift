// The go-cty conventions on top of MessagePack, as Nomad uses them for
// `SetConfig.msgpack_config` and `TaskConfig.msgpack_driver_config`.
//
// Nomad decodes HCL/JSON config with the plugin's hclspec schema into a cty
// object and encodes it with go-cty's `msgpack.Marshal(val, val.Type())`:
// - an object is a map with *every* attribute of its type, keys sorted
//   bytewise (Go's sort.Strings), `nil` for null (unset optional) attributes;
// - a cty map is a map with its keys in the same sorted order;
// - lists, sets and tuples are arrays (blocks are lists/sets of objects; a
//   missing single block is a null object);
// - a number is an integer when it is exactly an int64, else a float64 when it
//   is exactly one, else a decimal string (HCL parses literals such as 0.1 with
//   512-bit precision, so they arrive as the string "0.1");
// - an unknown value is an extension (fixext1 type 0, or type 12 with
//   refinements); go-cty reads any extension as unknown;
// - where the type passed to Marshal is cty.DynamicPseudoType, a value is
//   wrapped as `[type JSON as bin, value]`. Nomad passes the value's own
//   (concrete) type, so its config should not contain this form; it is still
//   recognized and unwrapped by the typed lookups.
//
// `Cty` builds such values (for a test host encoding config as Nomad does) and
// `CtyObject` reads them with errors that name the attribute path.

/// Builders for values in go-cty's msgpack encoding.
public enum Cty {
  /// go-cty's encoding of a wholly unknown value: fixext1 of type 0 with a zero byte.
  public static let unknown: MsgpackValue = .ext(type: 0, data: [0])

  /// The extension type go-cty uses for unknown values with refinements.
  public static let refinedUnknownExtensionType: Int8 = 0x0c

  /// `names` deduplicated and sorted as Go's `sort.Strings` does (bytewise UTF-8).
  public static func attributeOrder(_ names: some Sequence<String>) -> [String] {
    var seen: Set<[UInt8]> = []
    var unique: [String] = []
    for name in names where seen.insert(Array(name.utf8)).inserted {
      unique.append(name)
    }
    return unique.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
  }

  /// An object encoded as go-cty does: a map holding every attribute in
  /// `attributeNames`, in sorted order, with `.nil` for those `values` lacks.
  /// Throws if `values` has a key that is not an attribute name.
  public static func object(
    attributeNames: some Sequence<String>, values: [String: MsgpackValue]
  ) throws(CtyError) -> MsgpackValue {
    let names = attributeOrder(attributeNames)
    let known = Set(names.map { Array($0.utf8) })
    for key in attributeOrder(values.keys) where !known.contains(Array(key.utf8)) {
      throw CtyError(path: key, message: "unsupported attribute")
    }
    var byBytes: [[UInt8]: MsgpackValue] = [:]
    for (key, value) in values {
      byBytes[Array(key.utf8)] = value
    }
    return .map(
      names.map { name in
        MsgpackValue.MapEntry(key: .string(name), value: byBytes[Array(name.utf8)] ?? .nil)
      })
  }

  /// An object whose attributes are exactly the keys of `values`, sorted.
  public static func object(_ values: [String: MsgpackValue]) -> MsgpackValue {
    map(values)
  }

  /// A cty map value: entries sorted by key, as go-cty iterates maps.
  public static func map(_ values: [String: MsgpackValue]) -> MsgpackValue {
    .map(
      values.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        .map { MsgpackValue.MapEntry(key: .string($0.key), value: $0.value) })
  }

  /// A list (or set, or tuple) of strings.
  public static func stringList(_ values: [String]) -> MsgpackValue {
    .array(values.map { .string($0) })
  }

  /// A cty number from an integer.
  public static func number(_ value: Int64) -> MsgpackValue {
    .int(value)
  }

  /// A cty number from a double, as go-cty encodes `cty.NumberFloatVal`: an
  /// integer when it is exactly an int64, else a float64 (including infinities).
  public static func number(_ value: Double) -> MsgpackValue {
    if let integer = Int64(exactly: value) { return .int(integer) }
    return .float(value)
  }

  /// The wrapper go-cty writes for a value whose declared type is
  /// `cty.DynamicPseudoType`: `[type JSON as bin, value]`, e.g.
  /// `Cty.dynamic(typeJSON: "\"string\"", value: "x")`.
  public static func dynamic(typeJSON: String, value: MsgpackValue) -> MsgpackValue {
    .array([.binary(Array(typeJSON.utf8)), value])
  }
}

extension MsgpackValue {
  /// True for values go-cty decodes as unknown: any extension value.
  public var isCtyUnknown: Bool {
    if case .ext = self { return true }
    return false
  }

  /// The parts of a go-cty dynamic wrapper `[type JSON as bin, value]`, or nil.
  /// go-cty never writes bin anywhere else, so the shape is unambiguous.
  public var ctyDynamic: (typeJSON: String, value: MsgpackValue)? {
    guard case .array(let parts) = self, parts.count == 2, case .binary(let json) = parts[0],
      let typeJSON = String(validating: json, as: UTF8.self)
    else { return nil }
    return (typeJSON, parts[1])
  }

  /// This value with any go-cty dynamic wrapper removed.
  public var ctyUnwrapped: MsgpackValue {
    ctyDynamic?.value ?? self
  }

  /// Describes the value in cty terms for error messages: "null", "a bool",
  /// "a number", "a string", "binary data", "a list", "a map", "an unknown value".
  public var ctyKindDescription: String {
    switch self {
    case .nil: return "null"
    case .bool: return "a bool"
    case .int, .uint, .float: return "a number"
    case .string: return "a string"
    case .binary: return "binary data"
    case .array: return "a list"
    case .map: return "a map"
    case .ext: return "an unknown value"
    }
  }
}

/// A config error naming the attribute path, e.g.
/// `java_home: expected a string, got a list`.
public struct CtyError: Error, Sendable, Hashable, CustomStringConvertible {
  /// Attribute path such as `mount[0].source` or `env["HOME"]`; empty for the root.
  public let path: String
  public let message: String

  public init(path: String, message: String) {
    self.path = path
    self.message = message
  }

  public var description: String {
    path.isEmpty ? message : "\(path): \(message)"
  }
}

/// A conversion from a cty value to a Swift type, composable for nested types:
/// `.string`, `.list(of: .string)`, `.map(of: .object)`, `.optional(.int)`.
/// Null is rejected unless wrapped in `.optional`; unknown values are always
/// rejected; a dynamic wrapper is removed before converting.
public struct CtyType<Value: Sendable>: Sendable {
  /// The expected kind, as used in "expected ..." messages, e.g. "a string".
  public let name: String
  private let convertValue: @Sendable (MsgpackValue, String) throws(CtyError) -> Value

  /// `convert` receives the value (dynamic wrapper removed, never unknown) and
  /// its path for error messages; it should throw `mismatch(value, path:)` for
  /// values of the wrong kind, including null.
  public init(
    name: String,
    convert: @escaping @Sendable (MsgpackValue, _ path: String) throws(CtyError) -> Value
  ) {
    self.name = name
    self.convertValue = convert
  }

  /// Converts `value`, found at `path`.
  public func convert(_ value: MsgpackValue, path: String) throws(CtyError) -> Value {
    let value = value.ctyUnwrapped
    if case .ext = value { throw mismatch(value, path: path) }
    return try convertValue(value, path)
  }

  /// The error for a value of the wrong kind: "<path>: expected <name>, got <kind>".
  public func mismatch(_ value: MsgpackValue, path: String) -> CtyError {
    CtyError(path: path, message: "expected \(name), got \(value.ctyKindDescription)")
  }
}

extension CtyType where Value == String {
  /// A cty string.
  public static var string: CtyType<String> {
    CtyType(name: "a string") { (value, path) throws(CtyError) in
      guard case .string(let s) = value else { throw CtyType<String>.string.mismatch(value, path: path) }
      return s
    }
  }
}

extension CtyType where Value == Bool {
  /// A cty bool.
  public static var bool: CtyType<Bool> {
    CtyType(name: "a bool") { (value, path) throws(CtyError) in
      guard case .bool(let b) = value else { throw CtyType<Bool>.bool.mismatch(value, path: path) }
      return b
    }
  }
}

extension CtyType where Value == Int64 {
  /// A cty number that is a whole number within Int64 (integer, integral float,
  /// or go-cty's decimal-string fallback).
  public static var int: CtyType<Int64> {
    CtyType(name: "an integer") { (value, path) throws(CtyError) in
      if let i = value.intValue { return i }
      let number: Double
      switch value {
      case .float(let d): number = d
      case .uint(let u): number = Double(u)
      case .string(let s):
        if let i = Int64(s) { return i }
        // go-cty writes a number as a string only when it is not exactly an
        // int64 (or float64), so a numeric string here is never an integer.
        guard Double(s) != nil else { throw CtyType<Int64>.int.mismatch(value, path: path) }
        throw CtyError(path: path, message: "expected an integer, got \(s) (not a 64-bit whole number)")
      default:
        throw CtyType<Int64>.int.mismatch(value, path: path)
      }
      let problem = number.rounded(.towardZero) == number ? "out of range" : "not a whole number"
      throw CtyError(path: path, message: "expected an integer, got \(number) (\(problem))")
    }
  }
}

extension CtyType where Value == Double {
  /// A cty number as a Double (integer, float, or go-cty's decimal-string
  /// fallback, rounded to the nearest double).
  public static var double: CtyType<Double> {
    CtyType(name: "a number") { (value, path) throws(CtyError) in
      if let d = value.doubleValue { return d }
      if case .string(let s) = value, let d = Double(s) { return d }
      throw CtyType<Double>.double.mismatch(value, path: path)
    }
  }
}

extension CtyType where Value == MsgpackValue {
  /// Any non-unknown value as is (null included).
  public static var any: CtyType<MsgpackValue> {
    CtyType(name: "a value") { (value, _) throws(CtyError) in value }
  }
}

extension CtyType where Value == CtyObject {
  /// A cty object (a map with string keys).
  public static var object: CtyType<CtyObject> {
    CtyType(name: "an object") { (value, path) throws(CtyError) in
      try CtyObject(value, path: path)
    }
  }
}

extension CtyType {
  /// A cty list, set or tuple whose elements convert with `element`.
  public static func list<Element>(of element: CtyType<Element>) -> CtyType<[Element]>
  where Value == [Element] {
    CtyType<[Element]>(name: "a list") { (value, path) throws(CtyError) in
      guard case .array(let items) = value else {
        throw CtyError(path: path, message: "expected a list, got \(value.ctyKindDescription)")
      }
      var result: [Element] = []
      result.reserveCapacity(items.count)
      for (index, item) in items.enumerated() {
        result.append(try element.convert(item, path: "\(path)[\(index)]"))
      }
      return result
    }
  }

  /// A cty map with string keys whose values convert with `element`. Should a
  /// key repeat, the last occurrence wins.
  public static func map<Element>(of element: CtyType<Element>) -> CtyType<[String: Element]>
  where Value == [String: Element] {
    CtyType<[String: Element]>(name: "a map") { (value, path) throws(CtyError) in
      guard case .map(let entries) = value else {
        throw CtyError(path: path, message: "expected a map, got \(value.ctyKindDescription)")
      }
      var result: [String: Element] = [:]
      for entry in entries {
        guard case .string(let key) = entry.key else {
          throw CtyError(path: path, message: "map keys must be strings, got \(entry.key.ctyKindDescription)")
        }
        result[key] = try element.convert(entry.value, path: "\(path)[\(CtyObject.quoted(key))]")
      }
      return result
    }
  }

  /// Null converts to nil; anything else converts with `wrapped`.
  public static func optional<Wrapped>(_ wrapped: CtyType<Wrapped>) -> CtyType<Wrapped?>
  where Value == Wrapped? {
    CtyType<Wrapped?>(name: wrapped.name) { (value, path) throws(CtyError) -> Wrapped? in
      if case .nil = value { return nil }
      return try wrapped.convert(value, path: path)
    }
  }
}

/// A decoded cty object (a msgpack map with string keys) with typed lookups
/// whose errors name the attribute path:
///
///     let config = try CtyObject(decoding: request.msgpackConfig)
///     let home = try config.optionalString("java_home")
///     // throws e.g. "java_home: expected a string, got a list"
public struct CtyObject: Sendable, Hashable {
  /// Path of this object within the root config ("" for the root), used to
  /// prefix error paths.
  public let path: String
  /// The attributes in wire order.
  public let entries: [MsgpackValue.MapEntry]

  /// Views `value` (a map with string keys, possibly dynamic-wrapped) as an object.
  public init(_ value: MsgpackValue, path: String = "") throws(CtyError) {
    let value = value.ctyUnwrapped
    guard case .map(let entries) = value else {
      throw CtyError(path: path, message: "expected an object, got \(value.ctyKindDescription)")
    }
    for entry in entries {
      guard case .string = entry.key else {
        throw CtyError(path: path, message: "object keys must be strings, got \(entry.key.ctyKindDescription)")
      }
    }
    self.path = path
    self.entries = entries
  }

  /// Decodes msgpack bytes (e.g. `msgpack_config`) and views them as an object.
  /// Throws `MsgpackError` or `CtyError`. Empty input is an object with no
  /// attributes (a plugin with no config schema may receive no bytes).
  public init(decoding bytes: [UInt8], maxDepth: Int = MsgpackDecoder.defaultMaxDepth) throws {
    let value = bytes.isEmpty ? MsgpackValue.map([]) : try MsgpackDecoder(maxDepth: maxDepth).decode(bytes)
    try self.init(value)
  }

  /// The attribute names in wire order.
  public var attributeNames: [String] {
    entries.compactMap { $0.key.stringValue }
  }

  /// The raw value of attribute `key` (`.nil` when null), or nil when absent.
  /// Should a key repeat, the last occurrence wins.
  public subscript(key: String) -> MsgpackValue? {
    for entry in entries.reversed() {
      if case .string(let k) = entry.key, k.utf8.elementsEqual(key.utf8) {
        return entry.value
      }
    }
    return nil
  }

  /// True when the attribute is absent or null.
  public func isNull(_ key: String) -> Bool {
    self[key]?.ctyUnwrapped.isNil ?? true
  }

  /// The path of attribute `key` of this object, for error messages.
  public func path(of key: String) -> String {
    path.isEmpty ? key : "\(path).\(key)"
  }

  /// Converts attribute `key` with `type`; throws if it is absent, null,
  /// unknown or of another kind.
  public func get<T>(_ key: String, as type: CtyType<T>) throws(CtyError) -> T {
    guard let value = self[key] else {
      throw CtyError(path: path(of: key), message: "expected \(type.name), but the attribute is missing")
    }
    return try type.convert(value, path: path(of: key))
  }

  /// Converts attribute `key` with `type`, or returns nil when it is absent or
  /// null; throws if it is unknown or of another kind.
  public func getIfPresent<T>(_ key: String, as type: CtyType<T>) throws(CtyError) -> T? {
    guard let value = self[key], !value.ctyUnwrapped.isNil else { return nil }
    return try type.convert(value, path: path(of: key))
  }

  // Shorthands for common attribute types.

  public func string(_ key: String) throws(CtyError) -> String { try get(key, as: .string) }
  public func optionalString(_ key: String) throws(CtyError) -> String? { try getIfPresent(key, as: .string) }
  public func bool(_ key: String) throws(CtyError) -> Bool { try get(key, as: .bool) }
  public func optionalBool(_ key: String) throws(CtyError) -> Bool? { try getIfPresent(key, as: .bool) }
  public func int(_ key: String) throws(CtyError) -> Int64 { try get(key, as: .int) }
  public func optionalInt(_ key: String) throws(CtyError) -> Int64? { try getIfPresent(key, as: .int) }
  public func double(_ key: String) throws(CtyError) -> Double { try get(key, as: .double) }
  public func optionalDouble(_ key: String) throws(CtyError) -> Double? { try getIfPresent(key, as: .double) }
  public func object(_ key: String) throws(CtyError) -> CtyObject { try get(key, as: .object) }
  public func optionalObject(_ key: String) throws(CtyError) -> CtyObject? { try getIfPresent(key, as: .object) }

  /// A list/set of strings; absent or null gives [].
  public func stringList(_ key: String) throws(CtyError) -> [String] {
    try getIfPresent(key, as: .list(of: .string)) ?? []
  }

  /// A map of strings; absent or null gives [:].
  public func stringMap(_ key: String) throws(CtyError) -> [String: String] {
    try getIfPresent(key, as: .map(of: .string)) ?? [:]
  }

  /// A list/set of objects, as hclspec blocks decode; absent or null gives [].
  public func objectList(_ key: String) throws(CtyError) -> [CtyObject] {
    try getIfPresent(key, as: .list(of: .object)) ?? []
  }

  /// Throws for the first attribute not in `names` (catches schema drift
  /// between a host and a plugin).
  public func requireOnly(_ names: some Sequence<String>) throws(CtyError) {
    let allowed = Set(names.map { Array($0.utf8) })
    for name in attributeNames where !allowed.contains(Array(name.utf8)) {
      throw CtyError(path: path(of: name), message: "unsupported attribute")
    }
  }

  static func quoted(_ key: String) -> String {
    var out = "\""
    for scalar in key.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }
}
