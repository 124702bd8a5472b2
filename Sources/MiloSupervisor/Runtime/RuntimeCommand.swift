/// One OCI runtime (crun or runc) with its global options: every runtime command line milo
/// runs is built from this value, one file per verb (`RuntimeCommand+Run.swift`, ...).
public struct RuntimeCommand: Sendable, Equatable {
  /// The runtime binary.
  public var path: String
  /// The runtime's state root (`--root`); nil uses the runtime's default.
  public var root: String?
  /// A file for the runtime's own log (`--log`), written as JSON lines (`--log-format json`).
  public var logFile: String?

  public init(path: String, root: String? = nil, logFile: String? = nil) {
    self.path = path
    self.root = root
    self.logFile = logFile
  }

  /// The binary and the global options, before the verb.
  public var globalArguments: [String] {
    var arguments = [path]
    if let root { arguments += ["--root", root] }
    if let logFile { arguments += ["--log", logFile, "--log-format", "json"] }
    return arguments
  }

  /// The same runtime logging to `file`.
  public func logging(to file: String) -> RuntimeCommand {
    RuntimeCommand(path: path, root: root, logFile: file)
  }
}
