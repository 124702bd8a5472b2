// A MessagePack encoder producing the smallest (canonical) encodings, byte for
// byte what go-cty's encoder (vmihailenco/msgpack with compact integers and
// non-compact floats) produces for the same values:
//
// - integers: positive fixint, uint8/16/32/64 for values >= 0 (whether `.int` or
//   `.uint`); negative fixint, int8/16/32/64 for values < 0
// - floats: always float64 (go-cty disables compact floats)
// - strings: fixstr, str8, str16, str32
// - binary: bin8, bin16, bin32
// - arrays: fixarray, array16, array32; maps: fixmap, map16, map32
// - extensions: fixext1/2/4/8/16 for those payload sizes, else ext8/16/32
//
// Map entries are written in the order given; building go-cty's sorted object
// key order is `Cty.object`'s job.

/// Encodes `MsgpackValue` into MessagePack bytes.
public struct MsgpackEncoder: Sendable {
  public init() {}

  /// Encodes `value`. Throws only for a length above 2^32-1 bytes/elements.
  public func encode(_ value: MsgpackValue) throws(MsgpackError) -> [UInt8] {
    var output: [UInt8] = []
    try encode(value, into: &output)
    return output
  }

  /// Appends the encoding of `value` to `output`.
  public func encode(_ value: MsgpackValue, into output: inout [UInt8]) throws(MsgpackError) {
    switch value {
    case .nil:
      output.append(0xc0)
    case .bool(let b):
      output.append(b ? 0xc3 : 0xc2)
    case .int(let i):
      if i >= 0 {
        Self.appendUnsigned(UInt64(i), to: &output)
      } else {
        Self.appendNegative(i, to: &output)
      }
    case .uint(let u):
      Self.appendUnsigned(u, to: &output)
    case .float(let d):
      output.append(0xcb)
      Self.appendBigEndian(d.bitPattern, size: 8, to: &output)
    case .string(let s):
      let count = s.utf8.count
      if count < 32 {
        output.append(0xa0 | UInt8(count))
      } else {
        try Self.appendLengthHeader(
          count, size8: 0xd9, size16: 0xda, size32: 0xdb, format: "str", to: &output)
      }
      output.append(contentsOf: s.utf8)
    case .binary(let bytes):
      try Self.appendLengthHeader(
        bytes.count, size8: 0xc4, size16: 0xc5, size32: 0xc6, format: "bin", to: &output)
      output.append(contentsOf: bytes)
    case .array(let elements):
      if elements.count < 16 {
        output.append(0x90 | UInt8(elements.count))
      } else {
        try Self.appendLengthHeader(
          elements.count, size8: nil, size16: 0xdc, size32: 0xdd, format: "array", to: &output)
      }
      for element in elements {
        try encode(element, into: &output)
      }
    case .map(let entries):
      if entries.count < 16 {
        output.append(0x80 | UInt8(entries.count))
      } else {
        try Self.appendLengthHeader(
          entries.count, size8: nil, size16: 0xde, size32: 0xdf, format: "map", to: &output)
      }
      for entry in entries {
        try encode(entry.key, into: &output)
        try encode(entry.value, into: &output)
      }
    case .ext(let type, let data):
      switch data.count {
      case 1: output.append(0xd4)
      case 2: output.append(0xd5)
      case 4: output.append(0xd6)
      case 8: output.append(0xd7)
      case 16: output.append(0xd8)
      default:
        try Self.appendLengthHeader(
          data.count, size8: 0xc7, size16: 0xc8, size32: 0xc9, format: "ext", to: &output)
      }
      output.append(UInt8(bitPattern: type))
      output.append(contentsOf: data)
    }
  }

  private static func appendUnsigned(_ u: UInt64, to output: inout [UInt8]) {
    switch u {
    case 0...0x7f:
      output.append(UInt8(u))
    case 0x80...0xff:
      output.append(0xcc)
      output.append(UInt8(u))
    case 0x100...0xffff:
      output.append(0xcd)
      appendBigEndian(u, size: 2, to: &output)
    case 0x1_0000...0xffff_ffff:
      output.append(0xce)
      appendBigEndian(u, size: 4, to: &output)
    default:
      output.append(0xcf)
      appendBigEndian(u, size: 8, to: &output)
    }
  }

  private static func appendNegative(_ i: Int64, to output: inout [UInt8]) {
    let bits = UInt64(bitPattern: i)
    switch i {
    case -32..<0:
      output.append(UInt8(truncatingIfNeeded: bits))  // negative fixint 0xe0...0xff
    case Int64(Int8.min) ..< -32:
      output.append(0xd0)
      output.append(UInt8(truncatingIfNeeded: bits))
    case Int64(Int16.min)..<Int64(Int8.min):
      output.append(0xd1)
      appendBigEndian(bits, size: 2, to: &output)
    case Int64(Int32.min)..<Int64(Int16.min):
      output.append(0xd2)
      appendBigEndian(bits, size: 4, to: &output)
    default:
      output.append(0xd3)
      appendBigEndian(bits, size: 8, to: &output)
    }
  }

  /// Appends the low `size` bytes of `value`, most significant first.
  private static func appendBigEndian(_ value: UInt64, size: Int, to output: inout [UInt8]) {
    var shift = (size - 1) * 8
    while shift >= 0 {
      output.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
      shift -= 8
    }
  }

  /// Appends the smallest of the 8/16/32-bit length headers that fits `length`.
  private static func appendLengthHeader(
    _ length: Int, size8: UInt8?, size16: UInt8, size32: UInt8, format: String,
    to output: inout [UInt8]
  ) throws(MsgpackError) {
    if let size8, length <= 0xff {
      output.append(size8)
      output.append(UInt8(length))
    } else if length <= 0xffff {
      output.append(size16)
      appendBigEndian(UInt64(length), size: 2, to: &output)
    } else if UInt64(length) <= 0xffff_ffff {
      output.append(size32)
      appendBigEndian(UInt64(length), size: 4, to: &output)
    } else {
      throw MsgpackError(.lengthTooLarge(length), offset: output.count, format: format)
    }
  }
}

extension MsgpackValue {
  /// Encodes this value with `MsgpackEncoder`.
  public func encoded() throws(MsgpackError) -> [UInt8] {
    try MsgpackEncoder().encode(self)
  }
}
