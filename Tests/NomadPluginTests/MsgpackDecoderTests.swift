import NomadPlugin
import Testing

/// Decodes `bytes`, recording an issue (and returning nil) on failure.
private func decoded(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> MsgpackValue? {
  do {
    return try MsgpackDecoder().decode(bytes)
  } catch {
    Issue.record("decode failed: \(error)", sourceLocation: sourceLocation)
    return nil
  }
}

/// The error decoding `bytes` throws, recording an issue if it succeeds.
private func decodeError(
  _ bytes: [UInt8], decoder: MsgpackDecoder = MsgpackDecoder(),
  sourceLocation: SourceLocation = #_sourceLocation
) -> MsgpackError? {
  do {
    let value = try decoder.decode(bytes)
    Issue.record("expected an error, decoded \(value)", sourceLocation: sourceLocation)
    return nil
  } catch {
    return error
  }
}

@Suite struct MsgpackDecoderTests {
  // MARK: Scalars

  @Test func nilAndBools() {
    #expect(decoded([0xc0]) == .nil)
    #expect(decoded([0xc2]) == .bool(false))
    #expect(decoded([0xc3]) == .bool(true))
  }

  @Test(
    arguments: [
      ([0x00], MsgpackValue.int(0)),
      ([0x7f], .int(127)),
      ([0xe0], .int(-32)),
      ([0xff], .int(-1)),
      ([0xcc, 0x80], .uint(128)),
      ([0xcc, 0x05], .uint(5)),  // non-canonical, as some encoders write
      ([0xcd, 0x01, 0x00], .uint(256)),
      ([0xce, 0x00, 0x01, 0x00, 0x00], .uint(65536)),
      ([0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], .uint(UInt64.max)),
      ([0xd0, 0x80], .int(-128)),
      ([0xd0, 0x01], .int(1)),
      ([0xd1, 0x80, 0x00], .int(-32768)),
      ([0xd1, 0x00, 0x80], .int(128)),  // ugorji writes 128 as int16
      ([0xd2, 0x80, 0x00, 0x00, 0x00], .int(Int64(Int32.min))),
      ([0xd3, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], .int(Int64.min)),
      ([0xd3, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], .int(Int64.max)),
    ] as [([UInt8], MsgpackValue)])
  func integers(bytes: [UInt8], expected: MsgpackValue) {
    #expect(decoded(bytes) == expected)
  }

  @Test func integerCasesFollowTheFormatFamily() {
    // fixints and intN decode to .int, uintN to .uint; both compare numerically.
    guard case .int(1)? = decoded([0x01]) else { Issue.record("fixint should be .int"); return }
    guard case .uint(1)? = decoded([0xcc, 0x01]) else { Issue.record("uint8 should be .uint"); return }
    #expect(decoded([0x01]) == decoded([0xcc, 0x01]))
    #expect(decoded([0xd0, 0x01]) == decoded([0xcf, 0, 0, 0, 0, 0, 0, 0, 1]))
  }

  @Test func floats() {
    #expect(decoded([0xca, 0x3f, 0xc0, 0x00, 0x00]) == .float(1.5))
    #expect(decoded([0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]) == .float(1.5))
    #expect(decoded([0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0]) == .float(.infinity))
    #expect(decoded([0xcb, 0xff, 0xf0, 0, 0, 0, 0, 0, 0]) == .float(-.infinity))
    #expect(decoded([0xca, 0x7f, 0xc0, 0x00, 0x00])?.doubleValue?.isNaN == true)
    // NaN equals NaN so that decoded values always equal themselves.
    #expect(decoded([0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1]) == .float(.nan))
  }

  // MARK: Strings and binary

  @Test func strings() {
    #expect(decoded([0xa0]) == .string(""))
    #expect(decoded([0xa3, 0x61, 0x62, 0x63]) == "abc")
    #expect(decoded([0xd9, 0x03, 0x61, 0x62, 0x63]) == "abc")
    #expect(decoded([0xda, 0x00, 0x03, 0x61, 0x62, 0x63]) == "abc")
    #expect(decoded([0xdb, 0x00, 0x00, 0x00, 0x03, 0x61, 0x62, 0x63]) == "abc")
    #expect(decoded([0xa2, 0xc3, 0xa9]) == "é")
    let long = [UInt8](repeating: 0x78, count: 300)
    #expect(decoded([0xda, 0x01, 0x2c] + long) == .string(String(repeating: "x", count: 300)))
  }

  @Test func stringsAreComparedByExactBytes() {
    // Precomposed and decomposed "é" are canonically equivalent in Swift but
    // are different strings on the wire and in Go.
    #expect(MsgpackValue.string("\u{e9}") != .string("e\u{301}"))
    #expect(Set([MsgpackValue.string("\u{e9}"), .string("e\u{301}")]).count == 2)
  }

  @Test func binary() {
    #expect(decoded([0xc4, 0x00]) == .binary([]))
    #expect(decoded([0xc4, 0x02, 0x00, 0xff]) == .binary([0x00, 0xff]))
    #expect(decoded([0xc5, 0x00, 0x01, 0x07]) == .binary([0x07]))
    #expect(decoded([0xc6, 0x00, 0x00, 0x00, 0x01, 0x07]) == .binary([0x07]))
  }

  // MARK: Containers

  @Test func arrays() {
    #expect(decoded([0x90]) == .array([]))
    #expect(decoded([0x92, 0x01, 0xa1, 0x78]) == [1, "x"])
    #expect(decoded([0xdc, 0x00, 0x02, 0xc3, 0xc0]) == [true, .nil])
    #expect(decoded([0xdd, 0x00, 0x00, 0x00, 0x01, 0x90]) == [[]])
  }

  @Test func mapsKeepOrderAndDuplicates() {
    let value = decoded([0x83, 0xa1, 0x62, 0x01, 0xa1, 0x61, 0x02, 0xa1, 0x62, 0x03])
    #expect(
      value
        == .map([
          .init(key: "b", value: 1), .init(key: "a", value: 2), .init(key: "b", value: 3),
        ]))
    // The last duplicate wins, as when Go decodes into a map.
    #expect(value?["b"] == 3)
    #expect(value?["a"] == 2)
    #expect(value?["c"] == nil)
    #expect(decoded([0xde, 0x00, 0x01, 0x01, 0xc0]) == [1: .nil])
    #expect(decoded([0xdf, 0x00, 0x00, 0x00, 0x00]) == .map([]))
  }

  @Test func nonStringMapKeys() {
    let value = decoded([0x82, 0x01, 0xa1, 0x61, 0xc0, 0xc2])
    #expect(value?.mapValue?.map(\.key) == [1, .nil])
  }

  // MARK: Extensions and go-cty forms

  @Test func extensions() {
    #expect(decoded([0xd4, 0x00, 0x00]) == .ext(type: 0, data: [0]))
    #expect(decoded([0xd5, 0x01, 0xaa, 0xbb]) == .ext(type: 1, data: [0xaa, 0xbb]))
    #expect(decoded([0xd6, 0xff, 1, 2, 3, 4]) == .ext(type: -1, data: [1, 2, 3, 4]))
    #expect(
      decoded([0xd7, 0x05] + [UInt8](repeating: 9, count: 8)) == .ext(type: 5, data: [UInt8](repeating: 9, count: 8)))
    #expect(
      decoded([0xd8, 0x05] + [UInt8](repeating: 9, count: 16)) == .ext(type: 5, data: [UInt8](repeating: 9, count: 16)))
    #expect(decoded([0xc7, 0x00, 0x07]) == .ext(type: 7, data: []))
    #expect(decoded([0xc8, 0x00, 0x01, 0x80, 0x42]) == .ext(type: -128, data: [0x42]))
    #expect(decoded([0xc9, 0x00, 0x00, 0x00, 0x01, 0x7f, 0x42]) == .ext(type: 127, data: [0x42]))
  }

  @Test func ctyUnknownValues() {
    // cty.UnknownVal(cty.String): fixext1 type 0.
    let unknown = decoded([0xd4, 0x00, 0x00])
    #expect(unknown == Cty.unknown)
    #expect(unknown?.isCtyUnknown == true)
    // cty.UnknownVal(cty.String).RefineNotNull(): ext8 type 12 holding {1: false}.
    let refined = decoded([0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2])
    #expect(refined == .ext(type: Cty.refinedUnknownExtensionType, data: [0x81, 0x01, 0xc2]))
    #expect(refined?.isCtyUnknown == true)
    // An unknown inside an object.
    let object = decoded([0x81, 0xa1, 0x61, 0xd4, 0x00, 0x00])
    #expect(object?["a"]?.isCtyUnknown == true)
  }

  @Test func ctyDynamicWrapper() {
    // cty.ListVal([cty.StringVal("hello")]) marshalled as list(dynamic):
    // [ ["\"string\"" as bin, "hello"] ]
    let bytes: [UInt8] =
      [0x91, 0x92, 0xc4, 0x08] + Array("\"string\"".utf8) + [0xa5] + Array("hello".utf8)
    let value = decoded(bytes)
    let element = value?[0]
    #expect(element?.ctyDynamic?.typeJSON == "\"string\"")
    #expect(element?.ctyDynamic?.value == "hello")
    #expect(element?.ctyUnwrapped == "hello")
  }

  @Test func ctyNumberStringFallback() {
    // cty.ParseNumberVal("0.8") is not exactly a float64, so go-cty writes a string.
    let value = decoded([0xa3, 0x30, 0x2e, 0x38])
    #expect(value == "0.8")
    #expect(value?.intValue == nil)
  }

  @Test func decodePrefixStopsAfterOneValue() throws {
    let bytes: [UInt8] = [0x01, 0x92, 0xc0, 0xc3, 0xa1, 0x61]
    let decoder = MsgpackDecoder()
    let first = try decoder.decodePrefix(bytes)
    #expect(first.value == 1 && first.endOffset == 1)
    let second = try decoder.decodePrefix(bytes, from: first.endOffset)
    #expect(second.value == [.nil, true] && second.endOffset == 4)
    let third = try decoder.decodePrefix(bytes, from: second.endOffset)
    #expect(third.value == "a" && third.endOffset == 6)
    #expect(throws: MsgpackError.self) { try decoder.decodePrefix(bytes, from: 6) }
    #expect(throws: MsgpackError.self) { try decoder.decodePrefix(bytes, from: 99) }
    #expect(throws: MsgpackError.self) { try decoder.decodePrefix(bytes, from: -1) }
  }

  @Test func genericSequenceInput() throws {
    let slice: ArraySlice<UInt8> = [0xff, 0x92, 0x01, 0x02][1...]
    #expect(try MsgpackDecoder().decode(slice) == [1, 2])
    #expect(try MsgpackValue(decoding: [0xc3]) == true)
  }

  // MARK: Errors

  @Test func emptyInputIsTruncated() {
    let error = decodeError([])
    #expect(error?.reason == .truncated(needed: 1, available: 0))
    #expect(error?.offset == 0)
  }

  @Test func truncatedHeaders() {
    let error = decodeError([0x92, 0x01, 0xcd, 0x01])
    #expect(error?.reason == .truncated(needed: 2, available: 1))
    #expect(error?.offset == 3)
    #expect(error?.format == "uint16")
    #expect(
      error?.description
        == "msgpack: unexpected end of input reading uint16: needed 2 byte(s), 1 available (at byte offset 3)")
    #expect(decodeError([0xcb, 0x00])?.reason == .truncated(needed: 8, available: 1))
    #expect(decodeError([0xc7])?.reason == .truncated(needed: 1, available: 0))
    #expect(decodeError([0xc7, 0x01])?.reason == .truncated(needed: 1, available: 0))  // ext type byte
    #expect(decodeError([0x91])?.reason == .lengthExceedsInput(declared: 1, available: 0))
    #expect(decodeError([0xd4, 0x00])?.reason == .lengthExceedsInput(declared: 1, available: 0))
  }

  @Test func invalidTypeByte() {
    let error = decodeError([0x93, 0x01, 0x02, 0xc1])
    #expect(error?.reason == .invalidTypeByte(0xc1))
    #expect(error?.offset == 3)
    #expect(error?.description == "msgpack: invalid type byte 0xc1 (at byte offset 3)")
  }

  @Test func trailingBytes() {
    let error = decodeError([0x01, 0x02, 0x03])
    #expect(error?.reason == .trailingBytes(count: 2))
    #expect(error?.offset == 1)
    #expect(error?.description.contains("2 trailing byte(s)") == true)
  }

  @Test func invalidUTF8IsRejected() {
    let error = decodeError([0x91, 0xa2, 0xc3, 0x28])
    #expect(error?.reason == .invalidUTF8)
    #expect(error?.offset == 2)
    #expect(error?.description == "msgpack: fixstr payload is not valid UTF-8 (at byte offset 2)")
    // Lone surrogates and overlong encodings are invalid too; bin is not checked.
    #expect(decodeError([0xa3, 0xed, 0xa0, 0x80])?.reason == .invalidUTF8)
    #expect(decodeError([0xa2, 0xc0, 0xaf])?.reason == .invalidUTF8)
    #expect(decoded([0xc4, 0x02, 0xc3, 0x28]) == .binary([0xc3, 0x28]))
  }

  @Test func hostileLengthsFailWithoutAllocating() {
    let cases: [([UInt8], String)] = [
      ([0xdb, 0xff, 0xff, 0xff, 0xff, 0x61], "str32"),
      ([0xc6, 0xff, 0xff, 0xff, 0xff], "bin32"),
      ([0xc9, 0xff, 0xff, 0xff, 0xff, 0x00], "ext32"),
      ([0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0, 0xc0], "array32"),
      ([0xdf, 0xff, 0xff, 0xff, 0xff, 0xc0, 0xc0], "map32"),
      ([0xde, 0x00, 0x02, 0xc0, 0xc0, 0xc0], "map16"),
      ([0x9f, 0x01], "fixarray"),
    ]
    for (bytes, format) in cases {
      let error = decodeError(bytes)
      guard case .lengthExceedsInput? = error?.reason else {
        Issue.record("\(format): expected lengthExceedsInput, got \(String(describing: error))")
        continue
      }
      #expect(error?.format == format)
      #expect(error?.offset == 0)
    }
    #expect(
      decodeError([0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0])?.description
        == "msgpack: array32 declares 4294967295 element(s) but only 1 byte(s) remain (at byte offset 0)")
  }

  @Test func depthLimit() {
    let decoder = MsgpackDecoder()
    let ok = [UInt8](repeating: 0x91, count: 127) + [0x90]  // 128 nested arrays
    #expect(throws: Never.self) { try decoder.decode(ok) }
    let tooDeep = [UInt8](repeating: 0x91, count: 128) + [0x90]  // 129
    let error = decodeError(tooDeep)
    #expect(error?.reason == .depthLimitExceeded(limit: 128))
    #expect(error?.offset == 128)
    // Maps count too, and a huge nesting attempt fails fast without recursing.
    let maps = [UInt8]((0..<200).flatMap { _ in [0x81, 0xc0] as [UInt8] }) + [0xc0]
    #expect(decodeError(maps)?.reason == .depthLimitExceeded(limit: 128))
    let huge = [UInt8](repeating: 0x91, count: 1_000_000)
    #expect(decodeError(huge)?.reason == .depthLimitExceeded(limit: 128))
    // A custom limit.
    #expect(
      decodeError([0x91, 0x91, 0x90], decoder: MsgpackDecoder(maxDepth: 2))?.reason == .depthLimitExceeded(limit: 2))
    #expect(throws: Never.self) { try MsgpackDecoder(maxDepth: 0).decode([0x05]) }
  }

  // MARK: Accessors

  @Test func accessors() {
    #expect(MsgpackValue.uint(5).intValue == 5)
    #expect(MsgpackValue.uint(UInt64.max).intValue == nil)
    #expect(MsgpackValue.float(3.0).intValue == 3)
    #expect(MsgpackValue.float(3.5).intValue == nil)
    #expect(MsgpackValue.float(1e300).intValue == nil)
    #expect(MsgpackValue.string("3").intValue == nil)
    #expect(MsgpackValue.int(-1).uintValue == nil)
    #expect(MsgpackValue.int(7).uintValue == 7)
    #expect(MsgpackValue.int(7).doubleValue == 7)
    #expect(MsgpackValue.bool(true).boolValue == true)
    #expect(MsgpackValue.int(1).boolValue == nil)
    #expect(MsgpackValue.string("x").stringValue == "x")
    #expect(MsgpackValue.binary([1]).binaryValue == [1])
    #expect(MsgpackValue.array([1]).arrayValue == [1])
    #expect(MsgpackValue.ext(type: 3, data: [1]).extValue?.type == 3)
    #expect(MsgpackValue.nil.isNil)
    #expect(MsgpackValue.array([1])[1] == nil)
    #expect(MsgpackValue.array([1])[-1] == nil)
    #expect(MsgpackValue.string("x")["k"] == nil)
    #expect(MsgpackValue.map([.init(key: "k", value: .nil)])["k"] == .nil)
    #expect(MsgpackValue.int(1).kindName == "integer")
  }

  @Test func equalityAndHashing() {
    #expect(MsgpackValue.int(5) == .uint(5))
    #expect(MsgpackValue.uint(5) == .int(5))
    #expect(MsgpackValue.int(-1) != .uint(UInt64.max))
    #expect(MsgpackValue.int(1) != .float(1))
    #expect(MsgpackValue.float(0) == .float(-0.0))
    #expect(Set<MsgpackValue>([.int(5), .uint(5), .float(.nan), .float(.nan), .float(0), .float(-0.0)]).count == 3)
    #expect(MsgpackValue.ext(type: 1, data: [1]) != .ext(type: 2, data: [1]))
  }

  @Test func description() {
    let value: MsgpackValue = ["a": .nil, "b": 1.5, "c": ["x\n"], "d": .binary([0xab]), "e": .ext(type: 0, data: [0])]
    #expect(value.description == #"{"a": nil, "b": 1.5, "c": ["x\n"], "d": bin(ab), "e": ext(0, 00)}"#)
  }
}
