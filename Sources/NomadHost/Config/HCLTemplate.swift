/// The variables a job config may reference in `${...}` templates (Nomad's
/// `TaskEnv.AllValues`): every task environment variable by name (`${NOMAD_TASK_DIR}`), the
/// same map as `${env["NAME"]}`, and node attributes (`${node.unique.name}`, `${attr.kernel.name}`).
public struct HCLVariables: Sendable, Equatable {
  /// The task environment.
  public var env: [String: String]
  /// Dotted node keys (`node.datacenter`, `attr.kernel.name`, `meta.x`).
  public var node: [String: String]

  public init(env: [String: String] = [:], node: [String: String] = [:]) {
    self.env = env
    self.node = node
  }
}

/// Evaluates HCL JSON-syntax string templates: `${ref}` interpolation, `$${` and `%%{` escapes.
/// Only variable references are supported inside `${...}` (no functions or operators).
enum HCLTemplate {
  /// Returns the rendered string, or a diagnostic.
  static func render(_ template: String, variables: HCLVariables?) -> Result<String, HCLDiagnostic> {
    let scalars = Array(template.unicodeScalars)
    var out = ""
    var index = 0
    while index < scalars.count {
      let c = scalars[index]
      if (c == "$" || c == "%"), index + 2 < scalars.count, scalars[index + 1] == c, scalars[index + 2] == "{" {
        out.unicodeScalars.append(c)
        out += "{"
        index += 3
        continue
      }
      if c == "$", index + 1 < scalars.count, scalars[index + 1] == "{" {
        guard let close = scalars[(index + 2)...].firstIndex(of: "}") else {
          return .failure(
            HCLDiagnostic(
              summary: "Unterminated template string", detail: "No closing marker was found for the string."))
        }
        var expression = ""
        expression.unicodeScalars.append(contentsOf: scalars[(index + 2)..<close])
        switch resolve(expression.trimmingGoSpace(), variables: variables) {
        case .success(let value): out += value
        case .failure(let diagnostic): return .failure(diagnostic)
        }
        index = close + 1
        continue
      }
      if c == "%", index + 1 < scalars.count, scalars[index + 1] == "{" {
        return .failure(
          HCLDiagnostic(
            summary: "Unsupported template directive",
            detail: "NomadHost does not evaluate %{ } template directives."))
      }
      out.unicodeScalars.append(c)
      index += 1
    }
    return .success(out)
  }

  private static func resolve(_ expression: String, variables: HCLVariables?) -> Result<String, HCLDiagnostic> {
    guard let variables else {
      return .failure(HCLDiagnostic(summary: "Variables not allowed", detail: "Variables may not be used here."))
    }
    guard let path = parseTraversal(expression), let root = path.first else {
      return .failure(
        HCLDiagnostic(
          summary: "Unsupported expression",
          detail: "NomadHost evaluates only variable references in templates, not \(goQuote(expression))."))
    }
    if root == "env" {
      guard path.count == 2 else {
        return .failure(
          HCLDiagnostic(
            summary: "Unsupported expression", detail: "Expected env[\"NAME\"], got \(goQuote(expression))."))
      }
      guard let value = variables.env[path[1]] else {
        return .failure(
          HCLDiagnostic(
            summary: "Invalid index", detail: "The given key does not identify an element in this collection value."))
      }
      return .success(value)
    }
    let dotted = path.joined(separator: ".")
    if let value = variables.env[dotted] ?? variables.node[dotted] { return .success(value) }
    let rootKnown =
      variables.env.keys.contains { $0 == root || $0.hasPrefix(root + ".") }
      || variables.node.keys.contains { $0.hasPrefix(root + ".") }
    if rootKnown {
      return .failure(
        HCLDiagnostic(
          summary: "Unsupported attribute",
          detail: "This object does not have an attribute named \(goQuote(path.last ?? root))."))
    }
    return .failure(HCLDiagnostic(summary: "Unknown variable", detail: "There is no variable named \(goQuote(root))."))
  }

  /// `a.b["c"].d` → ["a", "b", "c", "d"]; nil if not a plain traversal.
  private static func parseTraversal(_ text: String) -> [String]? {
    var parts: [String] = []
    var current = ""
    var chars = Substring(text)
    func isIdent(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" || c == "-" }
    guard let first = chars.first, first.isLetter || first == "_" else { return nil }
    while let c = chars.first {
      if isIdent(c) {
        current.append(c)
        chars = chars.dropFirst()
      } else if c == "." {
        guard !current.isEmpty else { return nil }
        parts.append(current)
        current = ""
        chars = chars.dropFirst()
      } else if c == "[" {
        if !current.isEmpty {
          parts.append(current)
          current = ""
        }
        chars = chars.dropFirst()
        guard chars.first == "\"", let end = chars.dropFirst().firstIndex(of: "\"") else { return nil }
        parts.append(String(chars[chars.index(after: chars.startIndex)..<end]))
        chars = chars[chars.index(after: end)...]
        guard chars.first == "]" else { return nil }
        chars = chars.dropFirst()
        if chars.first == "." { chars = chars.dropFirst() }
      } else {
        return nil
      }
    }
    if !current.isEmpty { parts.append(current) }
    return parts.isEmpty ? nil : parts
  }
}
