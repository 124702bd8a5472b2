import Foundation
import MiloSupervisor
import MiloSys

/// The OCI runtime binary milo drives (crun by default).
public struct OCIRuntime: Sendable, Equatable {
  /// `crun` or `runc`.
  public var name: String
  /// Absolute path of the binary.
  public var path: String
  /// The first line of `<runtime> --version`, e.g. `crun version 1.8.1`.
  public var version: String

  /// Finds and checks the runtime named in the plugin config.
  public static func locate(name: String, path configured: String, pathEnv: String?) throws(HostProblem)
    -> OCIRuntime
  {
    let path: String
    if configured.isEmpty {
      guard let found = Environment.executable(named: name, searchPath: pathEnv ?? Environment.defaultSearchPath)
      else {
        throw HostProblem(
          "OCI runtime \(name) not found on PATH (\(pathEnv ?? "unset"))."
            + " Install it (apt-get install \(name)) or set runtime_path in the plugin config.")
      }
      path = found
    } else {
      guard access(configured, X_OK) == 0 else {
        throw HostProblem(
          "runtime_path \(configured) does not exist or is not executable."
            + " Point runtime_path at the \(name) binary, or leave it empty to search PATH.")
      }
      path = configured
    }
    guard let result = try? Spawn.run(RuntimeCommand(path: path).versionArguments, environment: Environment.list()),
      result.status == 0
    else {
      throw HostProblem("\(path) --version failed: the OCI runtime is not usable.")
    }
    let firstLine = result.output.split(separator: "\n").first.map(String.init) ?? name
    return OCIRuntime(name: name, path: path, version: firstLine)
  }

  /// The bare version number from the version line (`1.8.1`).
  public var versionNumber: String {
    version.split(separator: " ").last.map(String.init) ?? version
  }
}

/// Something about the host that keeps milo from running tasks, phrased for the operator.
public struct HostProblem: Error, CustomStringConvertible, Sendable, Equatable {
  public var description: String
  public init(_ description: String) { self.description = description }
}
