import Foundation

/// Picks the Java runtime for a task (or for the plugin's default).
public enum JavaSelection {
  /// Chooses by explicit home, then by version, then the `java` on PATH, then the newest.
  /// - Parameter settingNames: the config keys for `home` and `version`, used in messages.
  public static func choose(
    from runtimes: [JavaRuntime], home: String?, version: String?, pathJava: String?,
    searched: String, settingNames: (home: String, version: String)
  ) throws(HostProblem) -> JavaRuntime {
    if let home {
      let resolved = URL(fileURLWithPath: home).resolvingSymlinksInPath().path
      if let runtime = runtimes.first(where: { $0.home == resolved }) {
        return runtime
      }
      let installed = runtimes.map(\.home)
      throw HostProblem(
        "Error: \(settingNames.home) \(home) is not one of the Java runtimes milo found on this host\n"
          + "Expected: one of: \(installed.isEmpty ? "(none found)" : installed.joined(separator: ", "))\n"
          + "Got: \(home)\n"
          + "Suggestion: point \(settingNames.home) at an installed Java home (the operator can add directories"
          + " with java_search_paths), or remove it to use the default Java.")
    }
    if let version {
      if let runtime = runtimes.first(where: { $0.matches(version: version) }) { return runtime }
      let installed = runtimes.map { "\($0.version) (\($0.home))" }
      throw HostProblem(
        "Error: Java \(version) is not installed on this host\n"
          + "Expected: one of the installed versions\n"
          + "Got: \(settingNames.version) = \"\(version)\"; installed: "
          + (installed.isEmpty ? "none" : installed.joined(separator: ", ")) + "\n"
          + "Suggestion: install Java \(version) (e.g. apt-get install openjdk-\(version)-jre-headless)"
          + " or choose an installed version.")
    }
    if let pathJava {
      let resolved = URL(fileURLWithPath: pathJava).resolvingSymlinksInPath().path
      if let runtime = runtimes.first(where: { $0.home == resolved }) { return runtime }
    }
    if let newest = runtimes.first { return newest }
    throw HostProblem(
      "Error: No Java runtime found on host\n"
        + "Expected: a Java installation (a directory with bin/java and a release file)\n"
        + "Got: nothing in \(searched)\n"
        + "Suggestion: install one (apt-get install openjdk-17-jre-headless), or set java_search_paths"
        + " or default_java_home in the milo plugin config.")
  }
}
