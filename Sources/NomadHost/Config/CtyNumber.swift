import Foundation
import NomadPlugin

/// An arbitrary-precision decimal number, as HCL parses JSON numbers (go-cty numbers are
/// big.Floats). Stored as sign, decimal digits and a power-of-ten exponent.
public struct CtyNumber: Sendable, Hashable, CustomStringConvertible {
  /// True for negative values.
  public let negative: Bool
  /// Decimal digits without leading or trailing zeros (empty for zero).
  public let digits: [UInt8]
  /// Value = digits × 10^exponent.
  public let exponent: Int

  private init(negative: Bool, digits: [UInt8], exponent: Int) {
    var digits = Array(digits.drop { $0 == 0 })
    var exponent = exponent
    while let last = digits.last, last == 0 {
      digits.removeLast()
      exponent += 1
    }
    self.negative = digits.isEmpty ? false : negative
    self.digits = digits
    self.exponent = digits.isEmpty ? 0 : exponent
  }

  /// An integer.
  public init(_ value: Int64) {
    let text = String(value.magnitude)
    self.init(negative: value < 0, digits: text.utf8.map { $0 - 48 }, exponent: 0)
  }

  /// An unsigned integer.
  public init(_ value: UInt64) {
    self.init(negative: false, digits: String(value).utf8.map { $0 - 48 }, exponent: 0)
  }

  /// A double, via its shortest round-trip text (what Go's JSON encoder writes for a float64).
  public init?(_ value: Double) {
    guard value.isFinite else { return nil }
    self.init(parsing: "\(value)")
  }

  /// Parses decimal text (`-12.5e3`); nil if it is not a number (cty `ParseNumberVal`).
  public init?(parsing text: String) {
    var chars = Substring(text)
    var negative = false
    if chars.first == "-" || chars.first == "+" {
      negative = chars.first == "-"
      chars = chars.dropFirst()
    }
    var digits: [UInt8] = []
    var exponent = 0
    var sawDigit = false
    while let c = chars.first, let d = c.wholeNumberValue, c.isASCII {
      digits.append(UInt8(d))
      sawDigit = true
      chars = chars.dropFirst()
    }
    if chars.first == "." {
      chars = chars.dropFirst()
      while let c = chars.first, let d = c.wholeNumberValue, c.isASCII {
        digits.append(UInt8(d))
        exponent -= 1
        sawDigit = true
        chars = chars.dropFirst()
      }
    }
    guard sawDigit else { return nil }
    if chars.first == "e" || chars.first == "E" {
      chars = chars.dropFirst()
      var expNegative = false
      if chars.first == "-" || chars.first == "+" {
        expNegative = chars.first == "-"
        chars = chars.dropFirst()
      }
      guard !chars.isEmpty, chars.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(chars),
        value < 100_000
      else { return nil }
      exponent += expNegative ? -value : value
      chars = ""
    }
    guard chars.isEmpty else { return nil }
    self.init(negative: negative, digits: digits, exponent: exponent)
  }

  /// The value as an Int64 when it is an exact integer in range.
  public var int64: Int64? {
    guard exponent >= 0 else { return nil }
    if digits.isEmpty { return 0 }
    guard digits.count + exponent <= 19 else { return nil }
    var magnitude: UInt64 = 0
    for digit in digits {
      let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
      let (s, o2) = m.addingReportingOverflow(UInt64(digit))
      guard !o1 && !o2 else { return nil }
      magnitude = s
    }
    for _ in 0..<exponent {
      let (m, o) = magnitude.multipliedReportingOverflow(by: 10)
      guard !o else { return nil }
      magnitude = m
    }
    if negative {
      guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
      return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
    }
    return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
  }

  /// The nearest Double.
  public var double: Double { Double(plainText) ?? .nan }

  /// The value as a Double only when the Double is exactly equal to it.
  public var exactDouble: Double? {
    let value = double
    guard value.isFinite else { return nil }
    let exact = String(format: "%.1100f", value)
    guard let roundTrip = CtyNumber(parsing: exact) else { return nil }
    return roundTrip == self ? value : nil
  }

  /// Plain decimal text without an exponent, as big.Float's `Text('f', -1)` prints it.
  public var plainText: String {
    if digits.isEmpty { return "0" }
    var out = negative ? "-" : ""
    let text = String(decoding: digits.map { $0 + 48 }, as: UTF8.self)
    if exponent >= 0 {
      out += text + String(repeating: "0", count: exponent)
    } else {
      let point = text.count + exponent
      if point > 0 {
        out += text.prefix(point) + "." + text.dropFirst(point)
      } else {
        out += "0." + String(repeating: "0", count: -point) + text
      }
    }
    return out
  }

  public var description: String { plainText }

  /// go-cty's msgpack encoding: an int when exactly an int64, else a float64 when exact, else the
  /// decimal text as a string.
  public var msgpack: MsgpackValue {
    if let integer = int64 { return .int(integer) }
    if let value = exactDouble { return .float(value) }
    return .string(plainText)
  }
}
