import Foundation

/// One running `nomad agent` process, its output appended to a log file.
public final class AgentProcess: @unchecked Sendable {
  public let name: String
  public let logPath: String
  private let process: ChildProcess

  /// Starts `nomad agent -config <configPath>`; `environment` adds to this process's own.
  public init(
    name: String, nomad: String, configPath: String, logPath: String,
    environment: [String: String] = [:]
  ) throws {
    self.name = name
    self.logPath = logPath
    process = try ChildProcess(
      [nomad, "agent", "-config", configPath],
      environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
      stdout: logPath, stderr: logPath)
  }

  public var pid: Int32 { process.pid }
  public var isRunning: Bool { process.isRunning }

  /// Throws, with the end of the agent's log, when the agent has exited.
  public func checkRunning() throws {
    guard !process.isRunning else { return }
    throw AgentExited(name: name, status: process.status ?? -1, logTail: logTail(bytes: 2000))
  }

  /// Sends SIGINT (a graceful agent shutdown) and waits up to `grace` seconds, then SIGKILL.
  public func stop(grace: Double = 30) async {
    await process.stop(SIGINT, grace: grace)
  }

  /// The last `bytes` of the agent's log, for failure messages.
  /// The size of the agent's log so far: an offset for `log(since:)`.
  public var logSize: Int {
    var info = stat()
    return stat(logPath, &info) == 0 ? Int(info.st_size) : 0
  }

  /// What the agent logged after `offset` (a `logSize` taken earlier).
  public func log(since offset: Int) -> String {
    guard let data = FileManager.default.contents(atPath: logPath), data.count > offset else { return "" }
    return String(decoding: data.dropFirst(offset), as: UTF8.self)
  }

  public func logTail(bytes: Int = 6000) -> String {
    guard let data = FileManager.default.contents(atPath: logPath) else { return "" }
    return String(decoding: data.suffix(bytes), as: UTF8.self)
  }
}

/// An agent exited while the cluster needed it.
public struct AgentExited: Error, CustomStringConvertible {
  public var name: String
  public var status: Int32
  public var logTail: String
  public var description: String { "the \(name) agent exited with status \(status):\n\(logTail)" }
}
