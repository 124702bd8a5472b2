// A MessagePack value model for the configuration blobs Nomad exchanges with plugins.
//
// Nomad encodes plugin and task configuration with go-cty's msgpack encoding
// (github.com/zclconf/go-cty, cty/msgpack). What arrives on the wire is plain
// MessagePack: objects and maps become maps with string keys, lists, sets and
// tuples become arrays, numbers become integers (any width) or float64 (or, for
// numbers not exactly representable as either, a decimal string), unknown values
// become extension values, and dynamically typed values become a two-element
// array `[type JSON as bin, value]`. `MsgpackValue` represents any MessagePack
// value losslessly enough to model all of that; see `CtyObject.swift` for the
// cty-aware layer.

/// A decoded MessagePack value.
///
/// Equality and hashing are by value, with two deliberate choices:
/// - `.int` and `.uint` compare numerically, so `.int(5) == .uint(5)`. MessagePack
///   has a single integer family with several encodings; which case a decoder
///   produces is an encoding detail (see `MsgpackDecoder`).
/// - `.float` compares with `==`, except that NaN equals NaN (so decoded values
///   always equal themselves). `.float(1)` and `.int(1)` are *not* equal.
///
/// Map entries keep their wire order, and duplicate keys are kept as they are.
public enum MsgpackValue: Sendable {
  case `nil`
  case bool(Bool)
  case int(Int64)
  case uint(UInt64)
  case float(Double)
  case string(String)
  case binary([UInt8])
  case array([MsgpackValue])
  case map([MapEntry])
  case ext(type: Int8, data: [UInt8])

  /// One key/value pair of a MessagePack map. Maps are kept as ordered entry
  /// lists rather than dictionaries so that wire order and duplicates survive.
  public struct MapEntry: Sendable, Hashable {
    public var key: MsgpackValue
    public var value: MsgpackValue

    public init(key: MsgpackValue, value: MsgpackValue) {
      self.key = key
      self.value = value
    }
  }
}

// MARK: - Equatable & Hashable

extension MsgpackValue: Equatable {
  public static func == (lhs: MsgpackValue, rhs: MsgpackValue) -> Bool {
    switch (lhs, rhs) {
    case (.nil, .nil):
      return true
    case (.bool(let a), .bool(let b)):
      return a == b
    case (.int(let a), .int(let b)):
      return a == b
    case (.uint(let a), .uint(let b)):
      return a == b
    case (.int(let a), .uint(let b)), (.uint(let b), .int(let a)):
      return a >= 0 && UInt64(a) == b
    case (.float(let a), .float(let b)):
      return a == b || (a.isNaN && b.isNaN)
    case (.string(let a), .string(let b)):
      // Compare the exact UTF-8 bytes: Swift's String equality uses canonical
      // equivalence, but on the wire (and in Go) "é" and "e\u{301}" differ.
      return a.utf8.elementsEqual(b.utf8)
    case (.binary(let a), .binary(let b)):
      return a == b
    case (.array(let a), .array(let b)):
      return a == b
    case (.map(let a), .map(let b)):
      return a == b
    case (.ext(let ta, let da), .ext(let tb, let db)):
      return ta == tb && da == db
    default:
      return false
    }
  }
}

extension MsgpackValue: Hashable {
  public func hash(into hasher: inout Hasher) {
    switch self {
    case .nil:
      hasher.combine(0 as UInt8)
    case .bool(let b):
      hasher.combine(1 as UInt8)
      hasher.combine(b)
    case .int(let i):
      if i >= 0 {
        hasher.combine(2 as UInt8)
        hasher.combine(UInt64(i))
      } else {
        hasher.combine(3 as UInt8)
        hasher.combine(i)
      }
    case .uint(let u):
      hasher.combine(2 as UInt8)
      hasher.combine(u)
    case .float(let d):
      hasher.combine(4 as UInt8)
      // Keep hashing consistent with ==: all NaNs are equal, and 0.0 == -0.0.
      if d.isNaN {
        hasher.combine(UInt64.max)
      } else if d == 0 {
        hasher.combine(0 as UInt64)
      } else {
        hasher.combine(d.bitPattern)
      }
    case .string(let s):
      hasher.combine(5 as UInt8)
      hasher.combine(s.utf8.count)
      for byte in s.utf8 { hasher.combine(byte) }
    case .binary(let b):
      hasher.combine(6 as UInt8)
      hasher.combine(b)
    case .array(let a):
      hasher.combine(7 as UInt8)
      hasher.combine(a)
    case .map(let m):
      hasher.combine(8 as UInt8)
      hasher.combine(m)
    case .ext(let type, let data):
      hasher.combine(9 as UInt8)
      hasher.combine(type)
      hasher.combine(data)
    }
  }
}

// MARK: - Accessors

extension MsgpackValue {
  /// True for `.nil`.
  public var isNil: Bool {
    if case .nil = self { return true }
    return false
  }

  /// The value of a `.bool`, otherwise nil.
  public var boolValue: Bool? {
    if case .bool(let b) = self { return b }
    return nil
  }

  /// The value as an `Int64`: `.int`, `.uint` up to `Int64.max`, or a `.float`
  /// that is exactly integral and in range. Otherwise nil.
  public var intValue: Int64? {
    switch self {
    case .int(let i): return i
    case .uint(let u): return Int64(exactly: u)
    case .float(let d): return Int64(exactly: d)
    default: return nil
    }
  }

  /// The value as a `UInt64`: `.uint`, a non-negative `.int`, or a `.float` that
  /// is exactly integral and in range. Otherwise nil.
  public var uintValue: UInt64? {
    switch self {
    case .int(let i): return UInt64(exactly: i)
    case .uint(let u): return u
    case .float(let d): return UInt64(exactly: d)
    default: return nil
    }
  }

  /// The value as a `Double`: `.float`, or an integer converted (rounding to the
  /// nearest double for magnitudes above 2^53). Otherwise nil.
  public var doubleValue: Double? {
    switch self {
    case .float(let d): return d
    case .int(let i): return Double(i)
    case .uint(let u): return Double(u)
    default: return nil
    }
  }

  /// The value of a `.string`, otherwise nil.
  public var stringValue: String? {
    if case .string(let s) = self { return s }
    return nil
  }

  /// The bytes of a `.binary`, otherwise nil.
  public var binaryValue: [UInt8]? {
    if case .binary(let b) = self { return b }
    return nil
  }

  /// The elements of an `.array`, otherwise nil.
  public var arrayValue: [MsgpackValue]? {
    if case .array(let a) = self { return a }
    return nil
  }

  /// The entries of a `.map` in wire order, otherwise nil.
  public var mapValue: [MapEntry]? {
    if case .map(let m) = self { return m }
    return nil
  }

  /// The type and payload of an `.ext`, otherwise nil.
  public var extValue: (type: Int8, data: [UInt8])? {
    if case .ext(let type, let data) = self { return (type, data) }
    return nil
  }

  /// For a `.map`, the value of the entry whose key is the string `key`
  /// (compared by exact UTF-8 bytes). If the key occurs more than once, the
  /// last occurrence wins, as when Go decodes into a map or struct. Nil when the
  /// key is absent or this is not a map. A present key with a null value gives
  /// `.nil`, not nil.
  public subscript(key: String) -> MsgpackValue? {
    guard case .map(let entries) = self else { return nil }
    for entry in entries.reversed() {
      if case .string(let k) = entry.key, k.utf8.elementsEqual(key.utf8) {
        return entry.value
      }
    }
    return nil
  }

  /// For an `.array`, the element at `index`, or nil when out of bounds or not
  /// an array.
  public subscript(index: Int) -> MsgpackValue? {
    guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
    return elements[index]
  }

  /// A short name for the kind of value, for messages: "nil", "bool",
  /// "integer", "float", "string", "binary", "array", "map" or "extension".
  public var kindName: String {
    switch self {
    case .nil: return "nil"
    case .bool: return "bool"
    case .int, .uint: return "integer"
    case .float: return "float"
    case .string: return "string"
    case .binary: return "binary"
    case .array: return "array"
    case .map: return "map"
    case .ext: return "extension"
    }
  }
}

// MARK: - Literals

extension MsgpackValue: ExpressibleByBooleanLiteral {
  public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension MsgpackValue: ExpressibleByIntegerLiteral {
  public init(integerLiteral value: Int64) { self = .int(value) }
}

extension MsgpackValue: ExpressibleByFloatLiteral {
  public init(floatLiteral value: Double) { self = .float(value) }
}

extension MsgpackValue: ExpressibleByStringLiteral {
  public init(stringLiteral value: String) { self = .string(value) }
}

extension MsgpackValue: ExpressibleByArrayLiteral {
  public init(arrayLiteral elements: MsgpackValue...) { self = .array(elements) }
}

extension MsgpackValue: ExpressibleByDictionaryLiteral {
  /// Builds a `.map` keeping the literal's order (and any duplicate keys).
  public init(dictionaryLiteral elements: (MsgpackValue, MsgpackValue)...) {
    self = .map(elements.map { MapEntry(key: $0.0, value: $0.1) })
  }
}

// MARK: - Description

extension MsgpackValue: CustomStringConvertible {
  /// A compact JSON-like rendering, for logs and test failures.
  public var description: String {
    var out = ""
    describe(into: &out)
    return out
  }

  private func describe(into out: inout String) {
    switch self {
    case .nil:
      out += "nil"
    case .bool(let b):
      out += b ? "true" : "false"
    case .int(let i):
      out += String(i)
    case .uint(let u):
      out += String(u)
    case .float(let d):
      out += String(d)
    case .string(let s):
      MsgpackValue.quote(s, into: &out)
    case .binary(let bytes):
      out += "bin("
      MsgpackValue.hex(bytes, into: &out)
      out += ")"
    case .array(let elements):
      out += "["
      for (i, element) in elements.enumerated() {
        if i > 0 { out += ", " }
        element.describe(into: &out)
      }
      out += "]"
    case .map(let entries):
      out += "{"
      for (i, entry) in entries.enumerated() {
        if i > 0 { out += ", " }
        entry.key.describe(into: &out)
        out += ": "
        entry.value.describe(into: &out)
      }
      out += "}"
    case .ext(let type, let data):
      out += "ext(\(type), "
      MsgpackValue.hex(data, into: &out)
      out += ")"
    }
  }

  private static func quote(_ s: String, into out: inout String) {
    StringQuoting.append(s, .swift, to: &out)
  }

  private static func hex(_ bytes: [UInt8], into out: inout String) {
    let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
    for byte in bytes {
      out.append(digits[Int(byte >> 4)])
      out.append(digits[Int(byte & 0x0f)])
    }
  }
}
