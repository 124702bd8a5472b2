import NomadPlugin
import Testing

/// SplitMix64: a small, fast, deterministic generator so failures reproduce.
private struct SplitMix64: RandomNumberGenerator {
  var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9e37_79b9_7f4a_7c15
    var z = state
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
  }
}

/// Type bytes and length bytes that reach the decoder's interesting paths.
private let interestingBytes: [UInt8] = [
  0x00, 0x01, 0x7f, 0x80, 0x81, 0x8f, 0x90, 0x91, 0x9f, 0xa0, 0xa1, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3,
  0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3,
  0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff, 0xed, 0xf4,
]

private func randomByte(_ rng: inout SplitMix64) -> UInt8 {
  Bool.random(using: &rng)
    ? UInt8.random(in: 0...255, using: &rng)
    : interestingBytes[Int.random(in: 0..<interestingBytes.count, using: &rng)]
}

private func randomString(_ rng: inout SplitMix64) -> String {
  let alphabet: [String] = ["a", "b", "z", "_", " ", "é", "€", "𝄞", "\u{0}", "\n", "\u{301}"]
  let length: Int
  switch Int.random(in: 0..<20, using: &rng) {
  case 0: length = Int.random(in: 30...300, using: &rng)
  default: length = Int.random(in: 0...12, using: &rng)
  }
  var s = ""
  for _ in 0..<length { s += alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] }
  return s
}

private func randomValue(_ rng: inout SplitMix64, depth: Int = 0) -> MsgpackValue {
  let kinds = depth >= 4 ? 9 : 12
  switch Int.random(in: 0..<kinds, using: &rng) {
  case 0: return .nil
  case 1: return .bool(Bool.random(using: &rng))
  case 2:
    // Bias towards the format boundaries.
    let magnitudes: [Int64] = [0, 1, 31, 32, 33, 127, 128, 255, 256, 65535, 65536, 1 << 31, 1 << 32, Int64.max]
    let m = magnitudes[Int.random(in: 0..<magnitudes.count, using: &rng)]
    let jitter = Int64.random(in: -2...2, using: &rng)
    let v = m.addingReportingOverflow(jitter).partialValue
    return .int(Bool.random(using: &rng) ? v : (v == Int64.min ? v : -v))
  case 3: return .uint(UInt64.random(in: 0...UInt64.max, using: &rng))
  case 4:
    let specials: [Double] = [0, -0.0, 1.5, -2.25, .infinity, -.infinity, .nan, 1e300, .leastNonzeroMagnitude]
    return Bool.random(using: &rng)
      ? .float(specials[Int.random(in: 0..<specials.count, using: &rng)])
      : .float(Double(bitPattern: rng.next()))
  case 5, 6: return .string(randomString(&rng))
  case 7:
    return .binary((0..<Int.random(in: 0...20, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
  case 8:
    let sizes = [0, 1, 2, 3, 4, 8, 16, 17]
    let n = sizes[Int.random(in: 0..<sizes.count, using: &rng)]
    return .ext(
      type: Int8.random(in: Int8.min...Int8.max, using: &rng),
      data: (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) })
  case 9, 10:
    let n = Int.random(in: 0...(Int.random(in: 0..<8, using: &rng) == 0 ? 20 : 4), using: &rng)
    return .array((0..<n).map { _ in randomValue(&rng, depth: depth + 1) })
  default:
    let n = Int.random(in: 0...(Int.random(in: 0..<8, using: &rng) == 0 ? 18 : 4), using: &rng)
    return .map(
      (0..<n).map { _ in
        MsgpackValue.MapEntry(
          key: Bool.random(using: &rng) ? .string(randomString(&rng)) : randomValue(&rng, depth: depth + 1),
          value: randomValue(&rng, depth: depth + 1))
      })
  }
}

/// Decodes `bytes`; on success checks that the value re-encodes to something
/// that decodes to the same value. Returns whether decoding succeeded. Any
/// trap here would crash the test process, which is what these tests guard.
@discardableResult
private func decodeChecked(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
  let decoder = MsgpackDecoder()
  let value: MsgpackValue
  do {
    value = try decoder.decode(bytes)
  } catch {
    // The message must always render and name an offset inside the input.
    #expect(error.offset >= 0 && error.offset <= bytes.count, sourceLocation: sourceLocation)
    #expect(error.description.contains("at byte offset"), sourceLocation: sourceLocation)
    return false
  }
  do {
    let again = try decoder.decode(try value.encoded())
    #expect(again == value, "re-encoding changed \(bytes)", sourceLocation: sourceLocation)
  } catch {
    Issue.record("re-encoding \(bytes) failed: \(error)", sourceLocation: sourceLocation)
  }
  return true
}

@Suite(.timeLimit(.minutes(1))) struct MsgpackFuzzTests {
  @Test func randomByteStrings() {
    var rng = SplitMix64(seed: 0x6d69_6c6f)
    var successes = 0
    for _ in 0..<20_000 {
      let length = Int.random(in: 0...40, using: &rng)
      let bytes = (0..<length).map { _ in randomByte(&rng) }
      if decodeChecked(bytes) { successes += 1 }
    }
    // Sanity: the generator does reach valid values too.
    #expect(successes > 100)
  }

  @Test func everyTruncationOfValidEncodingsThrows() throws {
    var rng = SplitMix64(seed: 42)
    var samples: [MsgpackValue] = (0..<400).map { _ in randomValue(&rng) }
    samples.append(["a": .nil, "b": 1.5, "c": ["x"]])
    samples.append(Cty.dynamic(typeJSON: "\"string\"", value: "hello"))
    samples.append(.ext(type: 12, data: [0x82, 0x01, 0xc2, 0x02, 0xa4, 0x66, 0x6f, 0x6f, 0x2d]))
    let decoder = MsgpackDecoder()
    for value in samples {
      let bytes = try value.encoded()
      #expect(try decoder.decode(bytes) == value)
      for cut in 0..<bytes.count {
        do {
          let partial = try decoder.decode(Array(bytes[0..<cut]))
          Issue.record("prefix of \(cut)/\(bytes.count) bytes of \(value) decoded as \(partial)")
        } catch {
          switch error.reason {
          case .truncated, .lengthExceedsInput: break
          default: Issue.record("prefix of \(cut) bytes of \(value): unexpected \(error)")
          }
        }
      }
    }
  }

  @Test func randomMutationsOfValidEncodings() throws {
    var rng = SplitMix64(seed: 7)
    for _ in 0..<1_500 {
      let original = try randomValue(&rng).encoded()
      for _ in 0..<8 {
        var bytes = original
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
          let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
          switch Int.random(in: 0..<5, using: &rng) {
          case 0 where !bytes.isEmpty: bytes[position] = randomByte(&rng)
          case 1 where !bytes.isEmpty: bytes[position] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
          case 2 where !bytes.isEmpty: bytes.remove(at: position)
          case 3: bytes.insert(randomByte(&rng), at: position)
          default:
            // Overwrite what may be a length field with a huge value.
            for i in position..<min(bytes.count, position + 4) { bytes[i] = 0xff }
          }
        }
        decodeChecked(bytes)
      }
    }
  }

  @Test func hostileHeadersWithSmallInputs() {
    // Every header byte followed by every "length" of all-0xff or all-0x00 bytes.
    for header in UInt8.min...UInt8.max {
      for fill: UInt8 in [0x00, 0x7f, 0xff] {
        for length in 0...9 {
          decodeChecked([header] + [UInt8](repeating: fill, count: length))
        }
      }
    }
  }

  @Test func deeplyNestedHostileInputs() {
    // Each nesting pattern must stop at the depth limit, quickly, without
    // exhausting the stack.
    let patterns: [[UInt8]] = [[0x91], [0x81, 0xc0], [0x81], [0xdc, 0x00, 0x01], [0xdd, 0xff, 0xff, 0xff, 0xff]]
    for pattern in patterns {
      var bytes: [UInt8] = []
      for _ in 0..<10_000 { bytes += pattern }
      #expect(!decodeChecked(bytes))
    }
  }
}
