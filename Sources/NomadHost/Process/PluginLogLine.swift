import Foundation

/// hclog levels, as go-plugin re-logs a plugin's stderr in the agent log.
public enum PluginLogLevel: String, Sendable, Comparable, CaseIterable {
  case trace, debug, info, warn, error

  private var rank: Int { PluginLogLevel.allCases.firstIndex(of: self) ?? 0 }

  public static func < (lhs: PluginLogLevel, rhs: PluginLogLevel) -> Bool { lhs.rank < rhs.rank }

  /// hclog's `LevelFromString` (nil for an unknown or empty level).
  public init?(hclog text: String) {
    switch text.trimmingGoSpace().lowercased() {
    case "trace": self = .trace
    case "debug": self = .debug
    case "info": self = .info
    case "warn", "warning": self = .warn
    case "error", "err": self = .error
    default: return nil
    }
  }
}

/// One line a plugin wrote on stderr, classified as go-plugin's `logStderr` does.
public struct PluginLogLine: Sendable, Equatable {
  /// The level Nomad would log it at.
  public var level: PluginLogLevel
  /// The `@message` of an hclog JSON line, else the raw line.
  public var message: String
  /// The `@module` of an hclog JSON line.
  public var module: String?
  /// The `@timestamp` of an hclog JSON line.
  public var timestamp: String?
  /// Other keys of an hclog JSON line, rendered as text, sorted by key.
  public var fields: [String: String]
  /// The line as written (without the newline).
  public var raw: String
  /// True when the line parsed as hclog JSON (with a Go-layout `@timestamp`, if present).
  public var isJSON: Bool
  /// True when Nomad's go-plugin client would panic on this line (a non-string `@message`,
  /// `@level` or `@timestamp`): plugins must never write such lines.
  public var wouldPanicNomad: Bool

  /// A one-line rendering for echoing: `[LEVEL] module: message k=v ...`.
  public var formatted: String {
    var out = "[\(level.rawValue.uppercased())] "
    if let module { out += "\(module): " }
    out += message
    for (key, value) in fields.sorted(by: { $0.key < $1.key }) where key != "@module" {
      out += " \(key)=\(value)"
    }
    return out
  }
}

/// go-plugin's stderr classifier. Stateful because a `panic: ` or `fatal error: ` line switches
/// all later untagged lines to ERROR.
struct PluginLogClassifier {
  private var inPanic = false

  /// Classifies one complete line. `fragment` marks a piece of a line longer than the 64 KiB
  /// read buffer: such pieces are logged at DEBUG unparsed.
  mutating func classify(_ bytes: [UInt8], fragment: Bool = false) -> PluginLogLine {
    let raw = String(decoding: bytes, as: UTF8.self)
    func plain(_ level: PluginLogLevel) -> PluginLogLine {
      PluginLogLine(
        level: level, message: raw, module: nil, timestamp: nil, fields: [:], raw: raw, isJSON: false,
        wouldPanicNomad: false)
    }
    if fragment { return plain(.debug) }
    if let entry = Self.parseJSON(bytes, raw: raw) { return entry }
    if raw.hasPrefix("[TRACE]") { return plain(.trace) }
    if raw.hasPrefix("[DEBUG]") { return plain(.debug) }
    if raw.hasPrefix("[INFO]") { return plain(.info) }
    if raw.hasPrefix("[WARN]") { return plain(.warn) }
    if raw.hasPrefix("[ERROR]") { return plain(.error) }
    if raw.hasPrefix("panic: ") || raw.hasPrefix("fatal error: ") { inPanic = true }
    return plain(inPanic ? .error : .debug)
  }

  private static func parseJSON(_ bytes: [UInt8], raw: String) -> PluginLogLine? {
    guard let object = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]),
      let dictionary = object as? [String: Any]
    else { return nil }
    var panics = false
    var message = ""
    var levelText = ""
    var timestamp: String?
    if let value = dictionary["@message"] {
      if let text = value as? String { message = text } else { panics = true }
    }
    if let value = dictionary["@level"] {
      if let text = value as? String { levelText = text } else { panics = true }
    }
    if let value = dictionary["@timestamp"] {
      guard let text = value as? String else {
        return PluginLogLine(
          level: .error, message: raw, module: nil, timestamp: nil, fields: [:], raw: raw, isJSON: false,
          wouldPanicNomad: true)
      }
      // go-plugin parses it with Go's layout; a mismatch makes the line plain text.
      guard isGoTimestamp(text) else { return nil }
      timestamp = text
    }
    var fields: [String: String] = [:]
    for (key, value) in dictionary where !["@message", "@level", "@timestamp"].contains(key) {
      fields[key] = render(value)
    }
    let module = fields["@module"]
    guard let level = PluginLogLevel(hclog: levelText) else {
      return PluginLogLine(
        level: .debug, message: raw, module: module, timestamp: timestamp, fields: fields, raw: raw,
        isJSON: true, wouldPanicNomad: panics)
    }
    return PluginLogLine(
      level: level, message: message, module: module, timestamp: timestamp, fields: fields, raw: raw,
      isJSON: true, wouldPanicNomad: panics)
  }

  private static func render(_ value: Any) -> String {
    if let text = value as? String { return text }
    if value is NSNull { return "<nil>" }
    if let number = value as? NSNumber { return number.stringValue }
    if let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]) {
      return String(decoding: data, as: UTF8.self)
    }
    return "\(value)"
  }

  /// Whether `text` matches Go's `2006-01-02T15:04:05.000000Z07:00` (six fractional digits, then
  /// `Z` or `±hh:mm`).
  static func isGoTimestamp(_ text: String) -> Bool {
    let chars = Array(text.utf8)
    func digits(_ range: Range<Int>) -> Bool {
      range.upperBound <= chars.count && range.allSatisfy { chars[$0] >= 0x30 && chars[$0] <= 0x39 }
    }
    func char(_ index: Int, _ expected: Character) -> Bool {
      index < chars.count && chars[index] == expected.asciiValue
    }
    guard digits(0..<4), char(4, "-"), digits(5..<7), char(7, "-"), digits(8..<10), char(10, "T"),
      digits(11..<13), char(13, ":"), digits(14..<16), char(16, ":"), digits(17..<19), char(19, "."),
      digits(20..<26)
    else { return false }
    if chars.count == 27 && char(26, "Z") { return true }
    return chars.count == 32 && (char(26, "+") || char(26, "-")) && digits(27..<29) && char(29, ":")
      && digits(30..<32)
  }
}
