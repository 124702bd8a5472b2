import NomadPlugin

/// A cty value as NomadHost builds it from a job's config and a plugin's schema.
public indirect enum CtyValue: Sendable, Hashable {
  case null
  case string(String)
  case number(CtyNumber)
  case bool(Bool)
  case list([CtyValue])
  case set([CtyValue])
  case tuple([CtyValue])
  case map([String: CtyValue])
  case object([String: CtyValue])

  /// True for `.null`.
  public var isNull: Bool { self == .null }

  /// The type HCL infers for a value parsed from JSON (tuple for arrays, object for objects,
  /// `any` for null).
  public var impliedType: CtyTypeSpec {
    switch self {
    case .null: return .dynamic
    case .string: return .string
    case .number: return .number
    case .bool: return .bool
    case .list(let items): return .list(items.first?.impliedType ?? .dynamic)
    case .set(let items): return .set(items.first?.impliedType ?? .dynamic)
    case .tuple(let items): return .tuple(items.map(\.impliedType))
    case .map(let entries): return .map(entries.values.first?.impliedType ?? .dynamic)
    case .object(let attributes): return .object(attributes.mapValues(\.impliedType))
    }
  }

  /// The go-cty msgpack form (`cty/msgpack.Marshal(val, val.Type())`): objects and maps as maps
  /// with sorted keys, lists/sets/tuples as arrays, null as nil, numbers per `CtyNumber.msgpack`.
  public var msgpack: MsgpackValue {
    switch self {
    case .null: return .nil
    case .string(let text): return .string(text)
    case .number(let number): return number.msgpack
    case .bool(let flag): return .bool(flag)
    case .list(let items), .set(let items), .tuple(let items): return .array(items.map(\.msgpack))
    case .map(let entries), .object(let entries):
      return .map(
        entries.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
          .map { MsgpackValue.MapEntry(key: .string($0.key), value: $0.value.msgpack) })
    }
  }

  /// Builds the JSON-shaped value Nomad's `ParseHclInterface` would see for a job config value:
  /// maps become objects, arrays tuples, integers and floats numbers.
  public static func fromConfig(_ value: MsgpackValue) -> CtyValue {
    switch value {
    case .nil: return .null
    case .bool(let flag): return .bool(flag)
    case .int(let integer): return .number(CtyNumber(integer))
    case .uint(let integer): return .number(CtyNumber(integer))
    case .float(let double): return CtyNumber(double).map { .number($0) } ?? .null
    case .string(let text): return .string(text)
    case .binary(let bytes): return .string(String(decoding: bytes, as: UTF8.self))
    case .array(let items): return .tuple(items.map(fromConfig))
    case .map(let entries):
      var attributes: [String: CtyValue] = [:]
      for entry in entries {
        let key: String
        switch entry.key {
        case .string(let text): key = text
        default: key = entry.key.description
        }
        attributes[key] = fromConfig(entry.value)
      }
      return .object(attributes)
    case .ext: return .null
    }
  }
}
