import Foundation

/// hashicorp/go-version's `NewVersion` (loose semver, optional "v" prefix) and `Equal`.
public struct GoVersion: Sendable, Equatable, CustomStringConvertible {
  /// Numeric segments, padded to at least three.
  public var segments: [Int64]
  /// The pre-release part ("beta1" in "1.2.0-beta1").
  public var prerelease: String
  /// The build metadata ("+abc").
  public var metadata: String
  /// The text as given.
  public var original: String

  private static let pattern: NSRegularExpression? = try? NSRegularExpression(
    pattern: #"^v?([0-9]+(\.[0-9]+)*?)"#
      + #"(-([0-9]+[0-9A-Za-z\-~]*(\.[0-9A-Za-z\-~]+)*)|(-?([A-Za-z\-~]+[0-9A-Za-z\-~]*(\.[0-9A-Za-z\-~]+)*)))?"#
      + #"(\+([0-9A-Za-z\-~]+(\.[0-9A-Za-z\-~]+)*))?$"#)

  /// Parses `text`; the error text is go-version's ("Malformed version: x").
  public init(_ text: String) throws(ConfigError) {
    let range = NSRange(text.startIndex..., in: text)
    guard let pattern = Self.pattern, let match = pattern.firstMatch(in: text, range: range) else {
      throw ConfigError("Malformed version: \(text)")
    }
    func group(_ index: Int) -> String {
      guard let r = Range(match.range(at: index), in: text) else { return "" }
      return String(text[r])
    }
    var segments: [Int64] = []
    for part in group(1).split(separator: ".") {
      guard let value = Int64(part) else { throw ConfigError("Error parsing version: \(text)") }
      segments.append(value)
    }
    while segments.count < 3 { segments.append(0) }
    self.segments = segments
    let pre = group(4)
    self.prerelease = pre.isEmpty ? group(7) : pre
    self.metadata = group(10)
    self.original = text
  }

  /// go-version's `Equal` (segments and pre-release compared; metadata ignored).
  public func isEqual(to other: GoVersion) -> Bool {
    let count = max(segments.count, other.segments.count)
    for i in 0..<count {
      let a = i < segments.count ? segments[i] : 0
      let b = i < other.segments.count ? other.segments[i] : 0
      if a != b { return false }
    }
    return prerelease == other.prerelease
  }

  /// go-version's `GreaterThan` (numeric segments, then pre-release: a release beats a pre-release).
  public func isGreater(than other: GoVersion) -> Bool {
    let count = max(segments.count, other.segments.count)
    for i in 0..<count {
      let a = i < segments.count ? segments[i] : 0
      let b = i < other.segments.count ? other.segments[i] : 0
      if a != b { return a > b }
    }
    if prerelease == other.prerelease { return false }
    if prerelease.isEmpty { return true }
    if other.prerelease.isEmpty { return false }
    return prerelease > other.prerelease
  }

  public var description: String { original }
}
