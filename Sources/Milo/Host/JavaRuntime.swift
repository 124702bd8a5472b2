import Foundation
import MiloSys

/// One Java runtime installed on the host.
public struct JavaRuntime: Sendable, Equatable, Codable {
  /// The directory with `bin/java` (JAVA_HOME), links resolved.
  public var home: String
  /// The full version, e.g. `17.0.15`.
  public var version: String
  /// The vendor, e.g. `Debian` or `Eclipse Adoptium`.
  public var vendor: String
  /// The runtime build, e.g. `17.0.15+6-Debian-1deb12u1`.
  public var runtimeVersion: String

  /// The feature release (`17` for `17.0.15`, `8` for `1.8.0_392`).
  public var majorVersion: Int {
    let parts = version.split(whereSeparator: { !$0.isNumber })
    guard let first = parts.first.flatMap({ Int($0) }) else { return 0 }
    if first == 1, parts.count > 1, let second = Int(parts[1]) { return second }
    return first
  }

  /// True when `request` (a feature version like "17", or a full version prefix like "17.0.15")
  /// names this runtime.
  public func matches(version request: String) -> Bool {
    if let major = Int(request) { return major == majorVersion }
    return version == request || version.hasPrefix(request + ".") || version.hasPrefix(request + "+")
  }
}

/// Finds the Java runtimes on the host, reading each one's `release` file (no JVM is started).
public struct JavaDiscovery: Sendable {
  /// Directories whose children are Java homes (`/usr/lib/jvm/*`, `/opt/java/*`).
  public var searchPaths: [String]
  /// The `JAVA_HOME` of the plugin's environment, if any.
  public var javaHomeEnv: String?
  /// The `PATH` of the plugin's environment, to find a `java` there.
  public var pathEnv: String?

  public init(searchPaths: [String], environment: [String: String] = ProcessInfo.processInfo.environment) {
    self.searchPaths = searchPaths
    self.javaHomeEnv = environment["JAVA_HOME"]
    self.pathEnv = environment["PATH"]
  }

  /// Every place looked at, for error messages.
  public var searchedDescription: String {
    var places = searchPaths.map { "\($0)/*" }
    places.append("JAVA_HOME=\(javaHomeEnv ?? "(unset)")")
    places.append("java on PATH=\(pathEnv ?? "(unset)")")
    return places.joined(separator: ", ")
  }

  /// All distinct runtimes, newest first; the order is stable for equal versions.
  public func discover() -> [JavaRuntime] {
    var homes: [String] = []
    if let home = javaHomeEnv, !home.isEmpty { homes.append(home) }
    if let home = pathJavaHome() { homes.append(home) }
    let fm = FileManager.default
    for dir in searchPaths {
      guard let children = try? fm.contentsOfDirectory(atPath: dir) else { continue }
      for child in children.sorted() where !child.hasPrefix(".") {
        homes.append(dir + "/" + child)
      }
    }
    var seen = Set<String>()
    var runtimes: [JavaRuntime] = []
    for home in homes {
      let resolved = URL(fileURLWithPath: home).resolvingSymlinksInPath().path
      guard !seen.contains(resolved), let runtime = Self.inspect(home: resolved) else { continue }
      seen.insert(resolved)
      runtimes.append(runtime)
    }
    return runtimes.enumerated().sorted { a, b in
      if a.element.majorVersion != b.element.majorVersion {
        return a.element.majorVersion > b.element.majorVersion
      }
      return a.offset < b.offset
    }.map(\.element)
  }

  /// Reads one Java home; nil when it has no executable `bin/java`.
  public static func inspect(home: String) -> JavaRuntime? {
    guard access(home + "/bin/java", X_OK) == 0 else { return nil }
    var fields: [String: String] = [:]
    if let text = try? String(contentsOfFile: home + "/release", encoding: .utf8) {
      for line in text.split(separator: "\n") {
        guard let eq = line.firstIndex(of: "=") else { continue }
        let key = String(line[..<eq])
        var value = String(line[line.index(after: eq)...])
        if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 {
          value = String(value.dropFirst().dropLast())
        }
        fields[key] = value
      }
    }
    guard let version = fields["JAVA_VERSION"], !version.isEmpty else { return nil }
    return JavaRuntime(
      home: home, version: version, vendor: fields["IMPLEMENTOR"] ?? "unknown",
      runtimeVersion: fields["JAVA_RUNTIME_VERSION"] ?? version)
  }

  /// The home of the `java` found on PATH, links resolved.
  public func pathJavaHome() -> String? {
    guard let java = Environment.executable(named: "java", searchPath: pathEnv ?? "") else { return nil }
    let resolved = URL(fileURLWithPath: java).resolvingSymlinksInPath()
    return resolved.deletingLastPathComponent().deletingLastPathComponent().path
  }
}
