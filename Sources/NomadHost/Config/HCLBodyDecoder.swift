/// One HCL diagnostic; Nomad renders it as "<summary>: <detail>".
public struct HCLDiagnostic: Error, Sendable, Equatable, CustomStringConvertible {
  public var summary: String
  public var detail: String

  public init(summary: String, detail: String) {
    self.summary = summary
    self.detail = detail
  }

  /// Nomad's `formattedDiagnosticErrors` text (with "Extraneous JSON object property" renamed
  /// "Invalid label").
  public var description: String {
    let shown = summary == "Extraneous JSON object property" ? "Invalid label" : summary
    return "\(shown): \(detail)"
  }
}

/// hcldec's `Decode` of a JSON-syntax body (the job's config as Nomad JSON-encodes it) with a spec.
struct HCLBodyDecoder {
  let variables: HCLVariables?
  private(set) var diagnostics: [HCLDiagnostic] = []

  init(variables: HCLVariables?) {
    self.variables = variables
  }

  /// Decodes `body` (attributes of one JSON object) with `spec`.
  mutating func decode(body: [String: CtyValue], spec: HCLSpecNode) -> CtyValue {
    checkContent(body: body, spec: spec)
    return decodeSpec(spec, body: body)
  }

  /// `body.Content(schema)`: required attributes, then unknown keys.
  private mutating func checkContent(body: [String: CtyValue], spec: HCLSpecNode) {
    let schema = spec.impliedSchema
    for (name, required) in schema.attributes.sorted(by: { $0.key < $1.key }) where required && body[name] == nil {
      diagnostics.append(
        HCLDiagnostic(
          summary: "Missing required argument",
          detail: "The argument \(goQuote(name)) is required, but no definition was found."))
    }
    let known = Set(schema.attributes.keys).union(schema.blocks)
    let suggestions = schema.attributes.keys.sorted() + schema.blocks.sorted()
    for key in body.keys.sorted() where key != "//" && !known.contains(key) {
      var detail = "No argument or block type is named \(goQuote(key))."
      if let suggestion = suggestions.first(where: { levenshtein(key, $0) < 3 }) {
        detail += " Did you mean \(goQuote(suggestion))?"
      }
      diagnostics.append(HCLDiagnostic(summary: "Extraneous JSON object property", detail: detail))
    }
  }

  private mutating func decodeSpec(_ spec: HCLSpecNode, body: [String: CtyValue]) -> CtyValue {
    switch spec {
    case .object(let children):
      var result: [String: CtyValue] = [:]
      for (name, child) in children.sorted(by: { $0.key < $1.key }) {
        result[name] = decodeSpec(child, body: body)
      }
      return .object(result)
    case .array(let children):
      return .tuple(children.map { decodeSpec($0, body: body) })
    case .attr(let name, let type, _):
      guard let raw = body[name] else { return .null }
      guard let evaluated = evaluate(raw) else { return .null }
      do {
        return try CtyConversion.convert(evaluated, to: type)
      } catch {
        diagnostics.append(
          HCLDiagnostic(
            summary: "Incorrect attribute value type",
            detail: "Inappropriate value for attribute \(goQuote(name)): \(error.message)."))
        return .null
      }
    case .default(let primary, let fallback):
      let value = decodeSpec(primary, body: body)
      return value.isNull ? decodeSpec(fallback, body: body) : value
    case .literal(let value):
      return value
    case .block(let name, let required, let nested):
      let blocks = blockBodies(body[name], name: name)
      if blocks.count > 1 {
        diagnostics.append(
          HCLDiagnostic(
            summary: "Duplicate \(name) block", detail: "Only one block of type \(goQuote(name)) is allowed."))
      }
      guard let first = blocks.first else {
        if required {
          diagnostics.append(
            HCLDiagnostic(
              summary: "Missing \(name) block", detail: "A block of type \(goQuote(name)) is required here."))
        }
        return .null
      }
      return decode(body: first, spec: nested)
    case .blockList(let name, let minItems, let maxItems, let nested),
      .blockSet(let name, let minItems, let maxItems, let nested):
      let blocks = blockBodies(body[name], name: name)
      if blocks.count < minItems {
        diagnostics.append(
          HCLDiagnostic(
            summary: "Insufficient \(name) blocks",
            detail: "At least \(minItems) \(goQuote(name)) blocks are required."))
      }
      if maxItems > 0 && blocks.count > maxItems {
        diagnostics.append(
          HCLDiagnostic(
            summary: "Too many \(name) blocks", detail: "No more than \(maxItems) \(goQuote(name)) blocks are allowed"))
      }
      let values = blocks.map { decode(body: $0, spec: nested) }
      if case .blockSet = spec { return .set(values) }
      return .list(values)
    case .blockAttrs(let name, let type, let required):
      guard let raw = body[name] else {
        if required {
          diagnostics.append(
            HCLDiagnostic(
              summary: "Missing \(name) block", detail: "A block of type \(goQuote(name)) is required here."))
        }
        return .null
      }
      guard case .object(let attributes) = raw else {
        diagnostics.append(
          HCLDiagnostic(
            summary: "Incorrect JSON value type",
            detail: "A JSON object is required here, to define arguments and child blocks."))
        return .null
      }
      var result: [String: CtyValue] = [:]
      for (key, value) in attributes.sorted(by: { $0.key < $1.key }) {
        guard let evaluated = evaluate(value) else { continue }
        do {
          result[key] = try CtyConversion.convert(evaluated, to: type)
        } catch {
          diagnostics.append(
            HCLDiagnostic(
              summary: "Invalid attribute value",
              detail: "Invalid value for attribute of \(goQuote(name)) block: \(error.message)."))
        }
      }
      return .map(result)
    case .blockMap(let name, let labels, let nested):
      guard let raw = body[name] else { return .map([:]) }
      return decodeLabelled(raw, labels: labels[...], name: name, nested: nested)
    }
  }

  private mutating func decodeLabelled(
    _ raw: CtyValue, labels: ArraySlice<String>, name: String, nested: HCLSpecNode
  ) -> CtyValue {
    guard labels.first != nil else {
      guard let block = blockBodies(raw, name: name).first else { return .null }
      return decode(body: block, spec: nested)
    }
    guard case .object(let entries) = raw else {
      diagnostics.append(
        HCLDiagnostic(
          summary: "Incorrect JSON value type",
          detail: "A JSON object is required here, to specify \(labels.first ?? name) labels for this block."))
      return .map([:])
    }
    var result: [String: CtyValue] = [:]
    for (key, value) in entries.sorted(by: { $0.key < $1.key }) {
      result[key] = decodeLabelled(value, labels: labels.dropFirst(), name: name, nested: nested)
    }
    return .map(result)
  }

  /// The bodies of a block given as a JSON object or an array of objects.
  private mutating func blockBodies(_ raw: CtyValue?, name: String) -> [[String: CtyValue]] {
    guard let raw else { return [] }
    switch raw {
    case .object(let attributes):
      return [attributes]
    case .tuple(let items):
      var bodies: [[String: CtyValue]] = []
      for item in items {
        if case .object(let attributes) = item {
          bodies.append(attributes)
        } else {
          diagnostics.append(
            HCLDiagnostic(
              summary: "Incorrect JSON value type",
              detail: "A JSON object is required here, to define arguments and child blocks."))
        }
      }
      return bodies
    case .null:
      return []
    default:
      diagnostics.append(
        HCLDiagnostic(
          summary: "Incorrect JSON value type",
          detail:
            "Either a JSON object or JSON array of objects is required here, to define arguments and child blocks."))
      return []
    }
  }

  /// Evaluates a JSON expression: strings are templates, recursively in arrays and objects.
  private mutating func evaluate(_ value: CtyValue) -> CtyValue? {
    switch value {
    case .string(let template):
      switch HCLTemplate.render(template, variables: variables) {
      case .success(let text): return .string(text)
      case .failure(let diagnostic):
        diagnostics.append(diagnostic)
        return nil
      }
    case .tuple(let items):
      var out: [CtyValue] = []
      for item in items {
        guard let evaluated = evaluate(item) else { return nil }
        out.append(evaluated)
      }
      return .tuple(out)
    case .object(let attributes):
      var out: [String: CtyValue] = [:]
      for (key, item) in attributes {
        guard let evaluated = evaluate(item) else { return nil }
        out[key] = evaluated
      }
      return .object(out)
    default:
      return value
    }
  }
}

/// Levenshtein distance (HCL's "Did you mean" suggestions use a threshold of 3).
func levenshtein(_ a: String, _ b: String) -> Int {
  let a = Array(a.unicodeScalars)
  let b = Array(b.unicodeScalars)
  if a.isEmpty { return b.count }
  if b.isEmpty { return a.count }
  var previous = Array(0...b.count)
  var current = [Int](repeating: 0, count: b.count + 1)
  for i in 1...a.count {
    current[0] = i
    for j in 1...b.count {
      let cost = a[i - 1] == b[j - 1] ? 0 : 1
      current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
    }
    swap(&previous, &current)
  }
  return previous[b.count]
}
