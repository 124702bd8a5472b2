import Foundation

/// One running `nomad agent` process, its output appended to a log file.
public final class AgentProcess: @unchecked Sendable {
  public let name: String
  public let logPath: String
  private let process: Process

  /// Starts `nomad agent -config <configPath>`; `environment` adds to this process's own.
  public init(
    name: String, nomad: String, configPath: String, logPath: String,
    environment: [String: String] = [:]
  ) throws {
    self.name = name
    self.logPath = logPath
    if !FileManager.default.fileExists(atPath: logPath) {
      FileManager.default.createFile(atPath: logPath, contents: nil)
    }
    let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
    log.seekToEndOfFile()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: nomad)
    process.arguments = ["agent", "-config", configPath]
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.standardOutput = log
    process.standardError = log
    process.standardInput = FileHandle.nullDevice
    try process.run()
    try? log.close()
    self.process = process
  }

  public var pid: Int32 { process.processIdentifier }
  public var isRunning: Bool { process.isRunning }

  /// Sends SIGINT (a graceful agent shutdown) and waits up to `grace` seconds, then SIGKILL.
  public func stop(grace: Double = 30) async {
    guard process.isRunning else { return }
    kill(process.processIdentifier, SIGINT)
    let deadline = Date().addingTimeInterval(grace)
    while process.isRunning && Date() < deadline {
      try? await Task.sleep(for: .milliseconds(100))
    }
    if process.isRunning {
      kill(process.processIdentifier, SIGKILL)
      while process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
    }
  }

  /// The last `bytes` of the agent's log, for failure messages.
  public func logTail(bytes: Int = 6000) -> String {
    guard let data = FileManager.default.contents(atPath: logPath) else { return "" }
    return String(decoding: data.suffix(bytes), as: UTF8.self)
  }
}
