/// A position in a text's Unicode scalars, for the small hand-written parsers of HCL type
/// expressions and literals.
protocol ScalarCursor {
  var scalars: [Unicode.Scalar] { get }
  var index: Int { get set }
}

extension ScalarCursor {
  /// Whether every scalar has been consumed.
  var atEnd: Bool { index >= scalars.count }

  /// Skips whitespace.
  mutating func skipSpace() {
    while index < scalars.count, scalars[index].properties.isWhitespace { index += 1 }
  }

  /// Consumes an HCL identifier (letters, digits, `_` and `-`) at the position; "" when none.
  mutating func scanIdentifier() -> String {
    var out = ""
    while index < scalars.count,
      scalars[index] == "_" || scalars[index] == "-" || scalars[index].properties.isAlphabetic
        || ("0"..."9").contains(scalars[index])
    {
      out.unicodeScalars.append(scalars[index])
      index += 1
    }
    return out
  }
}
