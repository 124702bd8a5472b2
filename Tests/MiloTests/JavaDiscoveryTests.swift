import Foundation
import Testing

@testable import Milo

/// A host with fake Java homes: `bin/java` scripts and `release` files, no real JVM.
private final class FakeHost {
  let dir = TempDir("milo-java")
  var jvm: String { dir.path + "/jvm" }
  var opt: String { dir.path + "/opt" }

  init() {
    dir.makeDirectory("jvm")
    dir.makeDirectory("opt")
  }

  @discardableResult
  func home(
    _ relative: String, version: String?, vendor: String? = nil, runtime: String? = nil,
    executable: Bool = true, javaBinary: Bool = true, quoted: Bool = true
  ) -> String {
    let home = dir.makeDirectory(relative)
    if javaBinary {
      dir.write(relative + "/bin/java", "#!/bin/sh\necho fake\n", mode: executable ? 0o755 : 0o644)
    }
    var lines: [String] = []
    func field(_ key: String, _ value: String?) {
      guard let value else { return }
      lines.append(quoted ? "\(key)=\"\(value)\"" : "\(key)=\(value)")
    }
    field("IMPLEMENTOR", vendor)
    field("JAVA_VERSION", version)
    field("JAVA_RUNTIME_VERSION", runtime)
    if version != nil || vendor != nil || runtime != nil {
      dir.write(relative + "/release", lines.joined(separator: "\n") + "\nMODULES=\"java.base\"\n")
    }
    return home
  }

  func link(_ relative: String, to target: String) {
    let path = dir.path + "/" + relative
    createDirectories((path as NSString).deletingLastPathComponent)
    precondition(symlink(target, path) == 0, "symlink \(path): errno \(errno)")
  }

  /// The standard layout: 17, 21 and 8 under jvm/, 11 under opt/, plus homes that are not Java.
  func standard() -> (java8: String, java11: String, java17: String, java21: String) {
    let java17 = home("jvm/java-17", version: "17.0.15", vendor: "Eclipse Adoptium", runtime: "17.0.15+6")
    let java21 = home("jvm/java-21", version: "21.0.7", vendor: "Debian", runtime: "21.0.7+6-Debian-1")
    let java8 = home("jvm/java-8", version: "1.8.0_392", vendor: "Temurin", runtime: "1.8.0_392-b08")
    let java11 = home("opt/java-11", version: "11.0.2", quoted: false)
    home("jvm/broken", version: "9", javaBinary: false)
    home("jvm/noexec", version: "10", executable: false)
    home("jvm/norelease", version: nil)
    home("jvm/.hidden", version: "99")
    link("jvm/link-17", to: java17)
    dir.write("jvm/README", "not a home")
    return (java8, java11, java17, java21)
  }

  func discovery(javaHome: String? = nil, path: String? = nil) -> JavaDiscovery {
    var environment: [String: String] = [:]
    environment["JAVA_HOME"] = javaHome
    environment["PATH"] = path
    return JavaDiscovery(searchPaths: [jvm, opt], environment: environment)
  }
}

private func runtime(_ home: String, _ version: String, vendor: String = "v", runtime: String? = nil) -> JavaRuntime {
  JavaRuntime(home: home, version: version, vendor: vendor, runtimeVersion: runtime ?? version)
}

@Suite struct JavaRuntimeTests {
  @Test(arguments: [
    ("17.0.15", 17), ("1.8.0_392", 8), ("21", 21), ("22-ea", 22), ("1", 1), ("", 0), ("11.0.2+9", 11),
    ("abc", 0), ("1.7", 7),
  ])
  func majorVersion(version: String, major: Int) {
    #expect(runtime("/j", version).majorVersion == major)
  }

  @Test(arguments: [
    ("17.0.15", "17", true), ("17.0.15", "17.0", true), ("17.0.15", "17.0.15", true), ("17.0.15", "17.0.1", false),
    ("17.0.15", "1", false), ("17.0.15", "21", false), ("1.8.0_392", "8", true), ("1.8.0_392", "1.8", true),
    ("1.8.0_392", "1", false), ("21+35", "21", true), ("21.0.7", "21.0.7+6", false), ("17.0.15", "", false),
  ])
  func matches(version: String, request: String, expected: Bool) {
    #expect(runtime("/j", version).matches(version: request) == expected)
  }
}

@Suite struct JavaDiscoveryTests {
  @Test func inspectReadsTheReleaseFile() {
    let host = FakeHost()
    let home = host.home("jvm/jdk", version: "17.0.15", vendor: "Eclipse Adoptium", runtime: "17.0.15+6")
    #expect(
      JavaDiscovery.inspect(home: home)
        == JavaRuntime(home: home, version: "17.0.15", vendor: "Eclipse Adoptium", runtimeVersion: "17.0.15+6"))
  }

  @Test func inspectDefaultsVendorAndRuntimeVersion() {
    let host = FakeHost()
    let home = host.home("jvm/jdk", version: "11.0.2", quoted: false)
    #expect(
      JavaDiscovery.inspect(home: home)
        == JavaRuntime(home: home, version: "11.0.2", vendor: "unknown", runtimeVersion: "11.0.2"))
  }

  @Test func inspectRejectsHomesThatAreNotJava() {
    let host = FakeHost()
    #expect(JavaDiscovery.inspect(home: host.home("a", version: "17", javaBinary: false)) == nil)
    #expect(JavaDiscovery.inspect(home: host.home("b", version: "17", executable: false)) == nil)
    #expect(JavaDiscovery.inspect(home: host.home("c", version: nil)) == nil)
    #expect(JavaDiscovery.inspect(home: host.home("d", version: nil, vendor: "Only Vendor")) == nil)
    #expect(JavaDiscovery.inspect(home: host.home("e", version: "")) == nil)
    #expect(JavaDiscovery.inspect(home: host.dir.path + "/missing") == nil)
  }

  @Test func discoversNewestFirstAndSkipsDuplicatesAndNonJava() {
    let host = FakeHost()
    let homes = host.standard()
    let found = host.discovery().discover()
    #expect(found.map(\.home) == [homes.java21, homes.java17, homes.java11, homes.java8])
    #expect(found.map(\.version) == ["21.0.7", "17.0.15", "11.0.2", "1.8.0_392"])
    #expect(found.map(\.majorVersion) == [21, 17, 11, 8])
    #expect(found.map(\.vendor) == ["Debian", "Eclipse Adoptium", "unknown", "Temurin"])
    #expect(found[0].runtimeVersion == "21.0.7+6-Debian-1")
  }

  @Test func equalMajorVersionsKeepDiscoveryOrder() {
    let host = FakeHost()
    let env = host.home("opt/env-17", version: "17.0.1")
    let a = host.home("jvm/a-17", version: "17.0.9")
    let b = host.home("jvm/b-17", version: "17.0.3")
    let found = host.discovery(javaHome: env).discover()
    #expect(found.map(\.home) == [env, a, b])
  }

  @Test func javaHomeAndPathJavaAreFound() {
    let host = FakeHost()
    let elsewhere = host.home("elsewhere/jdk-25", version: "25")
    let onPath = host.home("other/jdk-23", version: "23.0.1")
    host.link("bin/java", to: onPath + "/bin/java")
    let discovery = host.discovery(javaHome: elsewhere, path: "/nonexistent:" + host.dir.path + "/bin")
    #expect(discovery.pathJavaHome() == onPath)
    #expect(discovery.discover().map(\.home) == [elsewhere, onPath])
  }

  @Test func symlinkedHomeIsResolved() {
    let host = FakeHost()
    let real = host.home("real/jdk", version: "17.0.2")
    host.link("opt/current", to: real)
    let found = host.discovery().discover()
    #expect(found.map(\.home) == [real])
  }

  @Test func nothingFound() {
    let host = FakeHost()
    #expect(host.discovery().discover() == [])
    #expect(host.discovery(path: host.dir.path).pathJavaHome() == nil)
    #expect(JavaDiscovery(searchPaths: ["/nonexistent"], environment: [:]).discover() == [])
  }

  @Test func searchedDescription() {
    let discovery = JavaDiscovery(searchPaths: ["/usr/lib/jvm", "/opt/java"], environment: [:])
    #expect(
      discovery.searchedDescription
        == "/usr/lib/jvm/*, /opt/java/*, JAVA_HOME=(unset), java on PATH=(unset)")
    let set = JavaDiscovery(searchPaths: [], environment: ["JAVA_HOME": "/j", "PATH": "/bin:/usr/bin"])
    #expect(set.searchedDescription == "JAVA_HOME=/j, java on PATH=/bin:/usr/bin")
  }
}

@Suite struct JavaSelectionTests {
  private let names = (home: "java_home", version: "java_version")

  @Test func explicitHomeWins() throws {
    let host = FakeHost()
    let homes = host.standard()
    let runtimes = host.discovery().discover()
    let chosen = try JavaSelection.choose(
      from: runtimes, home: homes.java8, version: "21", pathJava: homes.java21, searched: "s", settingNames: names)
    #expect(chosen.home == homes.java8)
    #expect(chosen.version == "1.8.0_392")
  }

  @Test func homeThroughASymlink() throws {
    let host = FakeHost()
    let homes = host.standard()
    let chosen = try JavaSelection.choose(
      from: host.discovery().discover(), home: host.jvm + "/link-17", version: nil, pathJava: nil,
      searched: "s", settingNames: names)
    #expect(chosen.home == homes.java17)
  }

  @Test func homeOutsideTheSearchPathsIsRejected() {
    // A task may only pick a runtime milo discovered: it must not mount arbitrary host paths.
    let host = FakeHost()
    let other = host.home("custom/jdk", version: "24.0.1", vendor: "Oracle")
    let error = caught(HostProblem.self) {
      try JavaSelection.choose(from: [], home: other, version: nil, pathJava: nil, searched: "s", settingNames: names)
    }
    #expect(
      error?.description.hasPrefix("Error: java_home \(other) is not one of the Java runtimes milo found") == true)
  }

  @Test func homeThatIsNotJava() {
    let host = FakeHost()
    let bad = host.dir.makeDirectory("empty")
    let error = caught(HostProblem.self) {
      try JavaSelection.choose(from: [], home: bad, version: nil, pathJava: nil, searched: "s", settingNames: names)
    }
    #expect(
      error?.description
        == "Error: java_home \(bad) is not one of the Java runtimes milo found on this host\n"
        + "Expected: one of: (none found)\n"
        + "Got: \(bad)\n"
        + "Suggestion: point java_home at an installed Java home (the operator can add directories"
        + " with java_search_paths), or remove it to use the default Java.")
  }

  @Test(arguments: [
    ("21", "21.0.7"), ("17", "17.0.15"), ("17.0.15", "17.0.15"), ("8", "1.8.0_392"), ("1.8", "1.8.0_392"),
    ("11", "11.0.2"),
  ])
  func byVersion(request: String, version: String) throws {
    let host = FakeHost()
    let homes = host.standard()
    let chosen = try JavaSelection.choose(
      from: host.discovery().discover(), home: nil, version: request, pathJava: homes.java8, searched: "s",
      settingNames: names)
    #expect(chosen.version == version)
  }

  @Test func versionNotInstalled() {
    let runtimes = [runtime("/jvm/21", "21.0.7"), runtime("/jvm/17", "17.0.15")]
    let error = caught(HostProblem.self) {
      try JavaSelection.choose(
        from: runtimes, home: nil, version: "11", pathJava: nil, searched: "s",
        settingNames: ("default_java_home", "default_java_version"))
    }
    #expect(
      error?.description
        == "Error: Java 11 is not installed on this host\n"
        + "Expected: one of the installed versions\n"
        + "Got: default_java_version = \"11\"; installed: 21.0.7 (/jvm/21), 17.0.15 (/jvm/17)\n"
        + "Suggestion: install Java 11 (e.g. apt-get install openjdk-11-jre-headless) or choose an installed version.")
  }

  @Test func versionWithNothingInstalled() {
    let error = caught(HostProblem.self) {
      try JavaSelection.choose(from: [], home: nil, version: "17", pathJava: nil, searched: "s", settingNames: names)
    }
    #expect(error?.description.contains("Got: java_version = \"17\"; installed: none\n") == true)
    #expect(error?.description.hasPrefix("Error: Java 17 is not installed on this host\n") == true)
  }

  @Test func pathJavaBeatsNewest() throws {
    let host = FakeHost()
    let homes = host.standard()
    let chosen = try JavaSelection.choose(
      from: host.discovery().discover(), home: nil, version: nil, pathJava: homes.java11, searched: "s",
      settingNames: names)
    #expect(chosen.home == homes.java11)
  }

  @Test func newestWhenPathJavaIsUnknown() throws {
    let runtimes = [runtime("/jvm/21", "21.0.7"), runtime("/jvm/17", "17.0.15")]
    let chosen = try JavaSelection.choose(
      from: runtimes, home: nil, version: nil, pathJava: "/elsewhere", searched: "s", settingNames: names)
    #expect(chosen.home == "/jvm/21")
    let noPath = try JavaSelection.choose(
      from: runtimes, home: nil, version: nil, pathJava: nil, searched: "s", settingNames: names)
    #expect(noPath.home == "/jvm/21")
  }

  @Test func noJavaAtAll() {
    let error = caught(HostProblem.self) {
      try JavaSelection.choose(
        from: [], home: nil, version: nil, pathJava: nil, searched: "/usr/lib/jvm/*, JAVA_HOME=(unset)",
        settingNames: names)
    }
    #expect(
      error?.description
        == "Error: No Java runtime found on host\n"
        + "Expected: a Java installation (a directory with bin/java and a release file)\n"
        + "Got: nothing in /usr/lib/jvm/*, JAVA_HOME=(unset)\n"
        + "Suggestion: install one (apt-get install openjdk-17-jre-headless), or set java_search_paths"
        + " or default_java_home in the milo plugin config.")
  }
}
