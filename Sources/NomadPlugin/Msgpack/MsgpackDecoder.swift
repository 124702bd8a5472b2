// A strict, allocation-bounded MessagePack decoder.
//
// Every MessagePack format is accepted: what go-cty's encoder
// (vmihailenco/msgpack) writes for plugin configuration, and also what the
// ugorji/hashicorp go codec used elsewhere in Nomad (`base.MsgPackEncode`)
// writes: old-spec raw strings without str8, float32, bin, fixext/ext.
// The decoder never traps on malformed input; it throws `MsgpackError`.

/// An error from decoding (or, rarely, encoding) MessagePack.
public struct MsgpackError: Error, Sendable, Hashable, CustomStringConvertible {
  public enum Reason: Sendable, Hashable {
    /// The input ended while reading a header or a fixed-size value.
    case truncated(needed: Int, available: Int)
    /// The type byte is not valid MessagePack (only 0xc1 is "never used").
    case invalidTypeByte(UInt8)
    /// A complete value was decoded but bytes remain after it.
    case trailingBytes(count: Int)
    /// A str value's payload is not valid UTF-8.
    case invalidUTF8
    /// Arrays/maps are nested deeper than the decoder's limit.
    case depthLimitExceeded(limit: Int)
    /// A str/bin/ext length, or an array/map element count, needs more bytes
    /// than remain in the input (the input is truncated or corrupt).
    case lengthExceedsInput(declared: UInt64, available: Int)
    /// The encoder was given a string, binary, array, map or extension whose
    /// length does not fit MessagePack's 32-bit length fields.
    case lengthTooLarge(Int)
  }

  /// What went wrong.
  public let reason: Reason
  /// Byte offset in the input (for encoding: in the output) where the value
  /// being processed starts or where the problem was detected.
  public let offset: Int
  /// The MessagePack format being processed, e.g. "str8", "array32", "uint16".
  public let format: String

  public init(_ reason: Reason, offset: Int, format: String) {
    self.reason = reason
    self.offset = offset
    self.format = format
  }

  public var description: String {
    let what: String
    switch reason {
    case .truncated(let needed, let available):
      what = "unexpected end of input reading \(format): needed \(needed) byte(s), \(available) available"
    case .invalidTypeByte(let byte):
      what = "invalid type byte 0x\(Self.hex(byte))"
    case .trailingBytes(let count):
      what = "\(count) trailing byte(s) after the value"
    case .invalidUTF8:
      what = "\(format) payload is not valid UTF-8"
    case .depthLimitExceeded(let limit):
      what = "\(format) nested deeper than the limit of \(limit)"
    case .lengthExceedsInput(let declared, let available):
      switch format {
      case "fixarray", "array16", "array32":
        what = "\(format) declares \(declared) element(s) but only \(available) byte(s) remain"
      case "fixmap", "map16", "map32":
        what = "\(format) declares \(declared) entries but only \(available) byte(s) remain"
      default:
        what = "\(format) declares \(declared) payload byte(s) but only \(available) remain"
      }
    case .lengthTooLarge(let length):
      what = "\(format) length \(length) does not fit in 32 bits"
    }
    return "msgpack: \(what) (at byte offset \(offset))"
  }

  private static func hex(_ byte: UInt8) -> String {
    let s = String(byte, radix: 16)
    return s.count < 2 ? "0" + s : s
  }
}

/// Decodes MessagePack bytes into `MsgpackValue`.
///
/// Integer formats map to cases as follows: positive/negative fixint and
/// int8...int64 decode to `.int`; uint8...uint64 decode to `.uint` (compare them
/// numerically with `==`, or read them with `intValue`). float32 and float64 both
/// decode to `.float(Double)`. str must be valid UTF-8; bin and ext payloads are
/// kept as bytes. Map keys may be any value; order and duplicates are kept.
///
/// Hostile input is bounded: a declared length or element count is checked
/// against the bytes that remain before anything is allocated, and container
/// nesting is limited to `maxDepth`.
public struct MsgpackDecoder: Sendable {
  public static let defaultMaxDepth = 128

  /// Maximum nesting of arrays and maps: a top-level array has depth 1.
  public var maxDepth: Int

  public init(maxDepth: Int = MsgpackDecoder.defaultMaxDepth) {
    self.maxDepth = max(0, maxDepth)
  }

  /// Decodes exactly one value; throws if bytes remain after it.
  public func decode(_ bytes: [UInt8]) throws(MsgpackError) -> MsgpackValue {
    var reader = Reader(bytes: bytes, position: 0, maxDepth: maxDepth)
    let value = try reader.readValue(depth: 0)
    if reader.position != bytes.count {
      throw MsgpackError(
        .trailingBytes(count: bytes.count - reader.position), offset: reader.position, format: "input")
    }
    return value
  }

  /// Decodes exactly one value from any byte sequence (e.g. `ArraySlice` or
  /// Foundation `Data`).
  public func decode<Bytes: Sequence<UInt8>>(_ bytes: Bytes) throws(MsgpackError) -> MsgpackValue {
    try decode(Array(bytes))
  }

  /// Decodes one value starting at `offset` and returns it with the offset just
  /// past it, ignoring anything after it (for streams of concatenated values).
  public func decodePrefix(
    _ bytes: [UInt8], from offset: Int = 0
  ) throws(MsgpackError) -> (value: MsgpackValue, endOffset: Int) {
    guard offset >= 0, offset <= bytes.count else {
      throw MsgpackError(
        .truncated(needed: 1, available: 0), offset: max(0, offset), format: "type byte")
    }
    var reader = Reader(bytes: bytes, position: offset, maxDepth: maxDepth)
    let value = try reader.readValue(depth: 0)
    return (value, reader.position)
  }
}

extension MsgpackValue {
  /// Decodes exactly one value with the default `MsgpackDecoder`.
  public init(decoding bytes: [UInt8]) throws(MsgpackError) {
    self = try MsgpackDecoder().decode(bytes)
  }
}

// MARK: - Reader

private struct Reader {
  let bytes: [UInt8]
  var position: Int
  let maxDepth: Int

  var remaining: Int { bytes.count - position }

  mutating func readValue(depth: Int) throws(MsgpackError) -> MsgpackValue {
    let start = position
    guard position < bytes.count else {
      throw MsgpackError(.truncated(needed: 1, available: 0), offset: position, format: "type byte")
    }
    let type = bytes[position]
    position += 1

    switch type {
    case 0x00...0x7f:
      return .int(Int64(type))
    case 0x80...0x8f:
      return try readMap(count: UInt64(type & 0x0f), start: start, depth: depth, format: "fixmap")
    case 0x90...0x9f:
      return try readArray(count: UInt64(type & 0x0f), start: start, depth: depth, format: "fixarray")
    case 0xa0...0xbf:
      return try readString(length: UInt64(type & 0x1f), start: start, format: "fixstr")
    case 0xc0:
      return .nil
    case 0xc1:
      throw MsgpackError(.invalidTypeByte(type), offset: start, format: "type byte")
    case 0xc2:
      return .bool(false)
    case 0xc3:
      return .bool(true)
    case 0xc4:
      return .binary(
        try readPayload(length: try readUInt(1, start: start, format: "bin8"), start: start, format: "bin8"))
    case 0xc5:
      return .binary(
        try readPayload(length: try readUInt(2, start: start, format: "bin16"), start: start, format: "bin16"))
    case 0xc6:
      return .binary(
        try readPayload(length: try readUInt(4, start: start, format: "bin32"), start: start, format: "bin32"))
    case 0xc7:
      return try readExt(length: try readUInt(1, start: start, format: "ext8"), start: start, format: "ext8")
    case 0xc8:
      return try readExt(length: try readUInt(2, start: start, format: "ext16"), start: start, format: "ext16")
    case 0xc9:
      return try readExt(length: try readUInt(4, start: start, format: "ext32"), start: start, format: "ext32")
    case 0xca:
      let bits = try readUInt(4, start: start, format: "float32")
      return .float(Double(Float(bitPattern: UInt32(truncatingIfNeeded: bits))))
    case 0xcb:
      return .float(Double(bitPattern: try readUInt(8, start: start, format: "float64")))
    case 0xcc:
      return .uint(try readUInt(1, start: start, format: "uint8"))
    case 0xcd:
      return .uint(try readUInt(2, start: start, format: "uint16"))
    case 0xce:
      return .uint(try readUInt(4, start: start, format: "uint32"))
    case 0xcf:
      return .uint(try readUInt(8, start: start, format: "uint64"))
    case 0xd0:
      return .int(Int64(Int8(truncatingIfNeeded: try readUInt(1, start: start, format: "int8"))))
    case 0xd1:
      return .int(Int64(Int16(truncatingIfNeeded: try readUInt(2, start: start, format: "int16"))))
    case 0xd2:
      return .int(Int64(Int32(truncatingIfNeeded: try readUInt(4, start: start, format: "int32"))))
    case 0xd3:
      return .int(Int64(bitPattern: try readUInt(8, start: start, format: "int64")))
    case 0xd4:
      return try readExt(length: 1, start: start, format: "fixext1")
    case 0xd5:
      return try readExt(length: 2, start: start, format: "fixext2")
    case 0xd6:
      return try readExt(length: 4, start: start, format: "fixext4")
    case 0xd7:
      return try readExt(length: 8, start: start, format: "fixext8")
    case 0xd8:
      return try readExt(length: 16, start: start, format: "fixext16")
    case 0xd9:
      return try readString(length: try readUInt(1, start: start, format: "str8"), start: start, format: "str8")
    case 0xda:
      return try readString(length: try readUInt(2, start: start, format: "str16"), start: start, format: "str16")
    case 0xdb:
      return try readString(length: try readUInt(4, start: start, format: "str32"), start: start, format: "str32")
    case 0xdc:
      return try readArray(
        count: try readUInt(2, start: start, format: "array16"), start: start, depth: depth, format: "array16")
    case 0xdd:
      return try readArray(
        count: try readUInt(4, start: start, format: "array32"), start: start, depth: depth, format: "array32")
    case 0xde:
      return try readMap(
        count: try readUInt(2, start: start, format: "map16"), start: start, depth: depth, format: "map16")
    case 0xdf:
      return try readMap(
        count: try readUInt(4, start: start, format: "map32"), start: start, depth: depth, format: "map32")
    default:  // 0xe0...0xff
      return .int(Int64(Int8(bitPattern: type)))
    }
  }

  /// Reads a big-endian unsigned integer of `size` bytes.
  mutating func readUInt(_ size: Int, start: Int, format: String) throws(MsgpackError) -> UInt64 {
    guard remaining >= size else {
      throw MsgpackError(.truncated(needed: size, available: remaining), offset: position, format: format)
    }
    var value: UInt64 = 0
    for i in position..<(position + size) {
      value = (value << 8) | UInt64(bytes[i])
    }
    position += size
    return value
  }

  /// Checks a declared payload length against the remaining input and returns it
  /// as an `Int` that is safe to slice with.
  func checkedLength(_ length: UInt64, start: Int, format: String) throws(MsgpackError) -> Int {
    guard let count = Int(exactly: length), count <= remaining else {
      throw MsgpackError(
        .lengthExceedsInput(declared: length, available: remaining), offset: start, format: format)
    }
    return count
  }

  mutating func readPayload(length: UInt64, start: Int, format: String) throws(MsgpackError) -> [UInt8] {
    let count = try checkedLength(length, start: start, format: format)
    let payload = Array(bytes[position..<(position + count)])
    position += count
    return payload
  }

  mutating func readString(length: UInt64, start: Int, format: String) throws(MsgpackError) -> MsgpackValue {
    let count = try checkedLength(length, start: start, format: format)
    let payloadStart = position
    guard let string = String(validating: bytes[payloadStart..<(payloadStart + count)], as: UTF8.self) else {
      throw MsgpackError(.invalidUTF8, offset: payloadStart, format: format)
    }
    position += count
    return .string(string)
  }

  mutating func readExt(length: UInt64, start: Int, format: String) throws(MsgpackError) -> MsgpackValue {
    let typeByte = try readUInt(1, start: start, format: format + " type")
    let data = try readPayload(length: length, start: start, format: format)
    return .ext(type: Int8(bitPattern: UInt8(truncatingIfNeeded: typeByte)), data: data)
  }

  /// Never reserve more than this many elements up front; beyond it, arrays grow
  /// as elements actually decode. Keeps nested hostile headers from reserving
  /// memory proportional to the input size at every level.
  static let maxReservation = 1024

  mutating func readArray(
    count: UInt64, start: Int, depth: Int, format: String
  ) throws(MsgpackError) -> MsgpackValue {
    guard depth < maxDepth else {
      throw MsgpackError(.depthLimitExceeded(limit: maxDepth), offset: start, format: format)
    }
    // Every element takes at least one byte.
    let n = try checkedLength(count, start: start, format: format)
    var elements: [MsgpackValue] = []
    elements.reserveCapacity(min(n, Self.maxReservation))
    for _ in 0..<n {
      elements.append(try readValue(depth: depth + 1))
    }
    return .array(elements)
  }

  mutating func readMap(
    count: UInt64, start: Int, depth: Int, format: String
  ) throws(MsgpackError) -> MsgpackValue {
    guard depth < maxDepth else {
      throw MsgpackError(.depthLimitExceeded(limit: maxDepth), offset: start, format: format)
    }
    // Every entry takes at least two bytes (key and value).
    guard count <= UInt64(remaining / 2) else {
      throw MsgpackError(
        .lengthExceedsInput(declared: count, available: remaining), offset: start, format: format)
    }
    let n = Int(count)
    var entries: [MsgpackValue.MapEntry] = []
    entries.reserveCapacity(min(n, Self.maxReservation))
    for _ in 0..<n {
      let key = try readValue(depth: depth + 1)
      let value = try readValue(depth: depth + 1)
      entries.append(MsgpackValue.MapEntry(key: key, value: value))
    }
    return .map(entries)
  }
}
