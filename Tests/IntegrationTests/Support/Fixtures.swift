import Foundation
import MiloSupervisor
import MiloSys

/// Paths and artifacts the integration tests share.
enum Fixtures {
  /// The repository root (two levels above this file's directory).
  static let repoRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<4 { url.deleteLastPathComponent() }
    return url.path
  }()

  /// The plugin binary under test: `$MILO_BINARY`, else the debug build.
  static let miloBinary: String = {
    if let path = ProcessInfo.processInfo.environment["MILO_BINARY"], !path.isEmpty { return path }
    return repoRoot + "/.build/debug/milo"
  }()

  /// The test application JAR, built once per test run by scripts/build-testapp.sh.
  static let testAppJar: String = {
    let result = try? Spawn.run(
      ["/bin/bash", repoRoot + "/scripts/build-testapp.sh"], environment: Environment.list())
    let path = result?.output.split(separator: "\n").last.map(String.init) ?? ""
    return path
  }()

  /// True when this machine can run containers (root, crun, a JDK, the milo binary).
  static var canRunContainers: Bool {
    geteuid() == 0 && FileManager.default.isExecutableFile(atPath: miloBinary)
      && FileManager.default.fileExists(atPath: testAppJar)
  }

  /// A fresh temporary directory, world-traversable so the task user can reach paths below it.
  static func temporaryDirectory(_ name: String) -> String {
    let path = "/tmp/milo-it-\(name)-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    chmod(path, 0o755)
    return path
  }

  /// Writes a file with `contents` and returns its path.
  @discardableResult
  static func write(_ contents: String, to path: String) -> String {
    FileManager.default.createFile(atPath: path, contents: Data(contents.utf8))
    return path
  }
}
