import NomadPlugin
import Testing

/// Parses space-separated hex bytes, e.g. "83 a1 61 c0".
private func hex(_ text: String) -> [UInt8] {
  text.split(separator: " ").compactMap { UInt8($0, radix: 16) }
}

private func encoded(_ value: MsgpackValue, sourceLocation: SourceLocation = #_sourceLocation) -> [UInt8] {
  do {
    return try MsgpackEncoder().encode(value)
  } catch {
    Issue.record("encode failed: \(error)", sourceLocation: sourceLocation)
    return []
  }
}

@Suite struct MsgpackEncoderTests {
  // MARK: Exact vectors (msgpack spec; vmihailenco/msgpack compact ints as go-cty uses)

  @Test(
    arguments: [
      (MsgpackValue.int(0), "00"),
      (.int(1), "01"),
      (.int(127), "7f"),
      (.int(128), "cc 80"),
      (.int(255), "cc ff"),
      (.int(256), "cd 01 00"),
      (.int(65535), "cd ff ff"),
      (.int(65536), "ce 00 01 00 00"),
      (.int(4_294_967_295), "ce ff ff ff ff"),
      (.int(4_294_967_296), "cf 00 00 00 01 00 00 00 00"),
      (.int(Int64.max), "cf 7f ff ff ff ff ff ff ff"),
      (.int(-1), "ff"),
      (.int(-32), "e0"),
      (.int(-33), "d0 df"),
      (.int(-128), "d0 80"),
      (.int(-129), "d1 ff 7f"),
      (.int(-32768), "d1 80 00"),
      (.int(-32769), "d2 ff ff 7f ff"),
      (.int(Int64(Int32.min)), "d2 80 00 00 00"),
      (.int(Int64(Int32.min) - 1), "d3 ff ff ff ff 7f ff ff ff"),
      (.int(Int64.min), "d3 80 00 00 00 00 00 00 00"),
      (.uint(0), "00"),
      (.uint(200), "cc c8"),
      (.uint(UInt64.max), "cf ff ff ff ff ff ff ff ff"),
    ] as [(MsgpackValue, String)])
  func integers(value: MsgpackValue, expected: String) {
    #expect(encoded(value) == hex(expected))
  }

  @Test func scalars() {
    #expect(encoded(.nil) == [0xc0])
    #expect(encoded(false) == [0xc2])
    #expect(encoded(true) == [0xc3])
    // go-cty disables compact floats: always float64, even when integral.
    #expect(encoded(.float(1.5)) == hex("cb 3f f8 00 00 00 00 00 00"))
    #expect(encoded(.float(1.0)) == hex("cb 3f f0 00 00 00 00 00 00"))
    #expect(encoded(.float(-0.0)) == hex("cb 80 00 00 00 00 00 00 00"))
    #expect(encoded(.float(.infinity)) == hex("cb 7f f0 00 00 00 00 00 00"))
  }

  @Test func stringLengthForms() {
    #expect(encoded("") == [0xa0])
    #expect(encoded("abc") == hex("a3 61 62 63"))
    #expect(encoded("é") == hex("a2 c3 a9"))
    let s31 = String(repeating: "x", count: 31)
    #expect(encoded(.string(s31)) == [0xbf] + Array(s31.utf8))
    let s32 = String(repeating: "x", count: 32)
    #expect(encoded(.string(s32)) == [0xd9, 0x20] + Array(s32.utf8))
    #expect(encoded(.string(String(repeating: "x", count: 255))).prefix(2) == [0xd9, 0xff])
    #expect(encoded(.string(String(repeating: "x", count: 256))).prefix(3) == [0xda, 0x01, 0x00])
    #expect(encoded(.string(String(repeating: "x", count: 65535))).prefix(3) == [0xda, 0xff, 0xff])
    let s65536 = encoded(.string(String(repeating: "x", count: 65536)))
    #expect(s65536.prefix(5) == [0xdb, 0x00, 0x01, 0x00, 0x00])
    #expect(s65536.count == 65536 + 5)
  }

  @Test func binaryLengthForms() {
    #expect(encoded(.binary([])) == [0xc4, 0x00])
    #expect(encoded(.binary([1, 2])) == hex("c4 02 01 02"))
    #expect(encoded(.binary([UInt8](repeating: 0, count: 255))).prefix(2) == [0xc4, 0xff])
    #expect(encoded(.binary([UInt8](repeating: 0, count: 256))).prefix(3) == [0xc5, 0x01, 0x00])
    #expect(encoded(.binary([UInt8](repeating: 0, count: 65536))).prefix(5) == [0xc6, 0x00, 0x01, 0x00, 0x00])
  }

  @Test func containerLengthForms() {
    #expect(encoded([]) == [0x90])
    #expect(encoded(.array(Array(repeating: 1, count: 15))) == [0x9f] + Array(repeating: 1, count: 15))
    #expect(encoded(.array(Array(repeating: 1, count: 16))) == [0xdc, 0x00, 0x10] + Array(repeating: 1, count: 16))
    #expect(encoded(.array(Array(repeating: .nil, count: 65536))).prefix(5) == [0xdd, 0x00, 0x01, 0x00, 0x00])
    #expect(encoded(.map([])) == [0x80])
    let entries15 = (0..<15).map { MsgpackValue.MapEntry(key: .int(Int64($0)), value: .nil) }
    #expect(encoded(.map(entries15)).prefix(1) == [0x8f])
    let entries16 = (0..<16).map { MsgpackValue.MapEntry(key: .int(Int64($0)), value: .nil) }
    #expect(encoded(.map(entries16)).prefix(5) == [0xde, 0x00, 0x10, 0x00, 0xc0])
    let entries65536 = (0..<65536).map { _ in MsgpackValue.MapEntry(key: .nil, value: .nil) }
    #expect(encoded(.map(entries65536)).prefix(5) == [0xdf, 0x00, 0x01, 0x00, 0x00])
  }

  @Test func mapsKeepGivenOrder() {
    #expect(encoded(["b": 1, "a": 2]) == hex("82 a1 62 01 a1 61 02"))
  }

  @Test func extensionForms() {
    #expect(encoded(.ext(type: 0, data: [0])) == hex("d4 00 00"))
    #expect(encoded(.ext(type: 1, data: [1, 2])) == hex("d5 01 01 02"))
    #expect(encoded(.ext(type: -1, data: [1, 2, 3, 4])) == hex("d6 ff 01 02 03 04"))
    #expect(
      encoded(.ext(type: 2, data: [UInt8](repeating: 7, count: 8))) == [0xd7, 0x02] + [UInt8](repeating: 7, count: 8))
    #expect(
      encoded(.ext(type: 2, data: [UInt8](repeating: 7, count: 16))) == [0xd8, 0x02] + [UInt8](repeating: 7, count: 16))
    #expect(encoded(.ext(type: 5, data: [])) == hex("c7 00 05"))
    #expect(encoded(.ext(type: 12, data: [0x81, 0x01, 0xc2])) == hex("c7 03 0c 81 01 c2"))
    #expect(encoded(.ext(type: 3, data: [UInt8](repeating: 0, count: 17))).prefix(3) == [0xc7, 0x11, 0x03])
    #expect(encoded(.ext(type: 3, data: [UInt8](repeating: 0, count: 256))).prefix(4) == [0xc8, 0x01, 0x00, 0x03])
    #expect(
      encoded(.ext(type: 3, data: [UInt8](repeating: 0, count: 65536))).prefix(6) == [
        0xc9, 0x00, 0x01, 0x00, 0x00, 0x03,
      ])
  }

  // MARK: go-cty shaped values

  @Test func ctyObjectVector() throws {
    // cty.ObjectVal({a: null string, b: 1.5, c: ["x"]}) as go-cty marshals it:
    // every attribute present, keys sorted, null as nil, 1.5 as float64.
    let object = try Cty.object(
      attributeNames: ["c", "b", "a"],
      values: ["b": Cty.number(1.5), "c": Cty.stringList(["x"])])
    let expected = hex("83 a1 61 c0 a1 62 cb 3f f8 00 00 00 00 00 00 a1 63 91 a1 78")
    #expect(encoded(object) == expected)
    #expect(try MsgpackDecoder().decode(expected) == ["a": .nil, "b": 1.5, "c": ["x"]])
  }

  @Test func ctyNumbers() {
    #expect(encoded(Cty.number(2.0)) == [0x02])  // integral: compact int
    #expect(encoded(Cty.number(-0.0)) == [0x00])
    #expect(encoded(Cty.number(300 as Int64)) == hex("cd 01 2c"))
    #expect(encoded(Cty.number(1e20)) == hex("cb 44 15 af 1d 78 b5 8c 40"))  // beyond int64: float64
    #expect(encoded(Cty.number(-.infinity)) == hex("cb ff f0 00 00 00 00 00 00"))
  }

  @Test func ctyUnknownAndRefinedUnknown() {
    #expect(encoded(Cty.unknown) == hex("d4 00 00"))
    // cty.UnknownVal(cty.String).Refine().NotNull().StringPrefix("foo-"):
    // ext type 12 holding {1: false, 2: "foo-"}.
    let refinements: MsgpackValue = [1: false, 2: "foo-"]
    let payload = encoded(refinements)
    #expect(payload == hex("82 01 c2 02 a4 66 6f 6f 2d"))
    #expect(encoded(.ext(type: Cty.refinedUnknownExtensionType, data: payload)) == hex("c7 09 0c") + payload)
  }

  @Test func ctyDynamicVector() {
    // cty.StringVal("hello") marshalled as cty.DynamicPseudoType.
    let value = Cty.dynamic(typeJSON: "\"string\"", value: "hello")
    #expect(encoded(value) == hex("92 c4 08 22 73 74 72 69 6e 67 22 a5 68 65 6c 6c 6f"))
  }

  @Test func ctyMapIsSortedBytewise() {
    let value = Cty.map(["b": 1, "a": 2, "B": 3, "é": 4, "z": 5])
    #expect(value.mapValue?.compactMap(\.key.stringValue) == ["B", "a", "b", "z", "é"])
  }

  // MARK: Round trips

  @Test func roundTrips() throws {
    let values: [MsgpackValue] = [
      .nil, true, false, 0, -1, 127, 128, -33, .int(Int64.min), .int(Int64.max), .uint(UInt64.max),
      1.5, .float(-.infinity), .float(.nan), "", "hello, wörld", .string(String(repeating: "ab", count: 40_000)),
      .binary([]), .binary([0, 1, 255]),
      [], [1, [2, [3, []]]], .array(Array(repeating: "x", count: 70_000)),
      .map([]), ["k": ["nested": [1, 2]], "n": .nil],
      .map([.init(key: 1, value: 2), .init(key: [1], value: ["x": 1]), .init(key: 1, value: 3)]),
      .ext(type: 0, data: [0]), .ext(type: -128, data: []), .ext(type: 42, data: [UInt8](repeating: 1, count: 300)),
    ]
    let encoder = MsgpackEncoder()
    let decoder = MsgpackDecoder()
    for value in values {
      let bytes = try encoder.encode(value)
      let back = try decoder.decode(bytes)
      #expect(back == value)
      // Canonical: re-encoding the decoded value yields the same bytes.
      #expect(try encoder.encode(back) == bytes)
    }
  }

  @Test func nonCanonicalInputReencodesCanonically() throws {
    let decoder = MsgpackDecoder()
    #expect(try decoder.decode(hex("cf 00 00 00 00 00 00 00 05")).encoded() == [0x05])
    #expect(try decoder.decode(hex("d1 00 80")).encoded() == hex("cc 80"))
    #expect(try decoder.decode(hex("da 00 01 61")).encoded() == hex("a1 61"))
    #expect(try decoder.decode(hex("ca 3f c0 00 00")).encoded() == hex("cb 3f f8 00 00 00 00 00 00"))
    #expect(try decoder.decode(hex("c7 01 00 00")).encoded() == hex("d4 00 00"))
  }

  @Test func appendsIntoExistingBuffer() throws {
    var buffer: [UInt8] = [0xaa]
    try MsgpackEncoder().encode(["x"], into: &buffer)
    #expect(buffer == hex("aa 91 a1 78"))
  }
}
