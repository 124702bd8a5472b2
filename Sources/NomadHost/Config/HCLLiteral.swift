import Foundation

/// Parses hclspec literal values: HCL native-syntax expressions restricted to constants
/// (JSON values, `true`/`false`/`null`, and `{ key = value }` objects).
enum HCLLiteral {
  static func parse(_ text: String) throws(ConfigError) -> CtyValue {
    var parser = Parser(scalars: Array(text.unicodeScalars))
    let value = try parser.value()
    parser.skipSpace()
    guard parser.atEnd else { throw ConfigError("failed to parse literal \(goQuote(text))") }
    return value
  }

  private struct Parser: ScalarCursor {
    let scalars: [Unicode.Scalar]
    var index = 0

    mutating func value() throws(ConfigError) -> CtyValue {
      skipSpace()
      guard index < scalars.count else { throw ConfigError("unexpected end of literal") }
      let c = scalars[index]
      switch c {
      case "\"": return .string(try string())
      case "[":
        index += 1
        var items: [CtyValue] = []
        skipSpace()
        while index < scalars.count, scalars[index] != "]" {
          items.append(try value())
          skipSpace()
          if index < scalars.count, scalars[index] == "," { index += 1 }
          skipSpace()
        }
        try expect("]")
        return .tuple(items)
      case "{":
        index += 1
        var attributes: [String: CtyValue] = [:]
        skipSpace()
        while index < scalars.count, scalars[index] != "}" {
          let key: String
          if scalars[index] == "\"" {
            key = try string()
          } else {
            key = scanIdentifier()
            guard !key.isEmpty else { throw ConfigError("invalid object key in literal") }
          }
          skipSpace()
          guard index < scalars.count, scalars[index] == "=" || scalars[index] == ":" else {
            throw ConfigError("expected = in literal object")
          }
          index += 1
          attributes[key] = try value()
          skipSpace()
          if index < scalars.count, scalars[index] == "," { index += 1 }
          skipSpace()
        }
        try expect("}")
        return .object(attributes)
      default:
        if c == "-" || c == "+" || ("0"..."9").contains(c) || c == "." {
          var text = ""
          while index < scalars.count,
            "0123456789+-.eE".unicodeScalars.contains(scalars[index])
          {
            text.unicodeScalars.append(scalars[index])
            index += 1
          }
          guard let number = CtyNumber(parsing: text) else { throw ConfigError("invalid number \(text)") }
          return .number(number)
        }
        let word = scanIdentifier()
        switch word {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "null": return .null
        default: throw ConfigError("unsupported literal expression \(goQuote(word))")
        }
      }
    }

    mutating func expect(_ scalar: Unicode.Scalar) throws(ConfigError) {
      skipSpace()
      guard index < scalars.count, scalars[index] == scalar else {
        throw ConfigError("expected \"\(scalar)\" in literal")
      }
      index += 1
    }

    mutating func string() throws(ConfigError) -> String {
      // Re-use JSON's string grammar for escapes.
      let start = index
      index += 1
      var escaped = false
      while index < scalars.count {
        let c = scalars[index]
        index += 1
        if escaped {
          escaped = false
        } else if c == "\\" {
          escaped = true
        } else if c == "\"" {
          var raw = ""
          raw.unicodeScalars.append(contentsOf: scalars[start..<index])
          guard
            let decoded = try? JSONSerialization.jsonObject(
              with: Data(raw.utf8), options: [.fragmentsAllowed]) as? String
          else { throw ConfigError("invalid string literal \(raw)") }
          return decoded
        }
      }
      throw ConfigError("unterminated string literal")
    }
  }
}
