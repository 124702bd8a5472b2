/// Double-quoted string literals with backslash escapes: JSON strings (hclog lines, control
/// messages), Go's `%q` (error texts Nomad prints) and Swift-style descriptions.
///
/// All three escape `"`, `\`, newline, carriage return and tab alike and differ only in how
/// other control characters are written.
public enum StringQuoting {
  public enum Style: Sendable {
    /// `\u001b` for characters below 0x20; DEL passes.
    case json
    /// `\x1b` for characters below 0x20 and DEL.
    case go
    /// `\u{1b}` for characters below 0x20 and DEL.
    case swift
  }

  /// `text` as a quoted literal.
  public static func quoted(_ text: String, _ style: Style) -> String {
    var out = ""
    append(text, style, to: &out)
    return out
  }

  /// Appends `text` as a quoted literal to `out`.
  public static func append(_ text: String, _ style: Style, to out: inout String) {
    out += "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        let value = scalar.value
        guard value < 0x20 || (value == 0x7f && style != .json) else {
          out.unicodeScalars.append(scalar)
          continue
        }
        let hex = String(value, radix: 16)
        switch style {
        case .json: out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        case .go: out += "\\x" + (value < 16 ? "0" : "") + hex
        case .swift: out += "\\u{" + hex + "}"
        }
      }
    }
    out += "\""
  }
}
