import Foundation
import NomadPlugin
import Synchronization

/// A tiny driver written only against the SDK (no gRPC, no generated protocol types): each
/// task sleeps for `SLEEP_SECONDS` (from its environment) and exits 0; stopping it ends it
/// with the stop signal. Exec runs two built-in commands: `cat` echoes stdin to stdout and
/// exits 0 when stdin closes; `exit N` exits with N.
final class SleepDriver: NomadDriver {
  /// One sleeping task.
  actor SleepTask {
    let config: TaskConfig
    let startedAt: Date
    private(set) var result: ExitResult?
    private var waiters: [CheckedContinuation<ExitResult, Never>] = []

    init(config: TaskConfig) {
      self.config = config
      startedAt = Date()
    }

    func finish(_ result: ExitResult) {
      guard self.result == nil else { return }
      self.result = result
      waiters.forEach { $0.resume(returning: result) }
      waiters = []
    }

    func wait() async -> ExitResult {
      if let result { return result }
      return await withCheckedContinuation { waiters.append($0) }
    }
  }

  let tasks = Mutex<[String: SleepTask]>([:])

  var identity: PluginIdentity { PluginIdentity(name: "sleep", version: "0.0.1") }
  var configSchema: HCLSchema { HCLSchema([]) }
  var taskConfigSchema: HCLSchema { HCLSchema([]) }
  var capabilities: DriverCapabilities {
    var capabilities = DriverCapabilities()
    capabilities.sendSignals = true
    capabilities.exec = true
    capabilities.fsIsolation = .none
    return capabilities
  }

  func setConfig(msgpack: [UInt8], agentConfig: AgentConfig?) async throws {}

  func fingerprint(_ send: @Sendable (Fingerprint) async throws -> Void) async throws {
    var fingerprint = Fingerprint()
    fingerprint.health = .healthy
    fingerprint.healthDescription = "Healthy"
    fingerprint.attributes["driver.sleep"] = Attribute(.bool(true))
    try await send(fingerprint)
  }

  func taskEvents(_ send: @Sendable (DriverTaskEvent) async throws -> Void) async throws {}

  func task(_ id: String) throws -> SleepTask {
    guard let task = tasks.withLock({ $0[id] }) else { throw DriverError.taskNotFound(id) }
    return task
  }

  func startTask(_ config: TaskConfig) async throws -> (TaskHandle, NetworkOverride?) {
    guard let seconds = Double(config.env["SLEEP_SECONDS"] ?? "") else {
      throw DriverError.invalidArgument("SLEEP_SECONDS must be a number of seconds")
    }
    let task = SleepTask(config: config)
    let exists = tasks.withLock { tasks in
      if tasks[config.id] != nil { return true }
      tasks[config.id] = task
      return false
    }
    if exists { throw DriverError(.alreadyExists, "task with ID \(config.id) already started") }
    Task {
      try? await Task.sleep(for: .seconds(seconds))
      await task.finish(ExitResult(exitCode: 0))
    }
    return (TaskHandle(version: 1, config: config, state: .running, driverState: Array("\(seconds)".utf8)), nil)
  }

  func recoverTask(id: String, handle: TaskHandle) async throws {
    throw DriverError(.failedPrecondition, "sleep tasks do not survive a plugin restart")
  }

  func waitTask(id: String) async throws -> (result: ExitResult, error: String?) {
    (try await task(id).wait(), nil)
  }

  func stopTask(id: String, timeout: Duration, signal: String) async throws {
    try await task(id).finish(ExitResult(exitCode: 130, signal: 2))
  }

  func destroyTask(id: String, force: Bool) async throws {
    let task = try task(id)
    if await task.result == nil {
      guard force else { throw DriverError(.failedPrecondition, "task \(id) is running; stop it first") }
      await task.finish(ExitResult(exitCode: 137, signal: 9))
    }
    _ = tasks.withLock { $0.removeValue(forKey: id) }
  }

  func inspectTask(id: String) async throws -> TaskStatus {
    let task = try task(id)
    var status = TaskStatus()
    status.id = id
    status.name = task.config.name
    let result = await task.result
    status.state = result == nil ? .running : .exited
    status.startedAt = Timestamp(seconds: Int64(task.startedAt.timeIntervalSince1970), nanos: 0)
    status.result = result
    return status
  }

  func signalTask(id: String, signal: String) async throws {
    _ = try task(id)
  }

  func execTaskStreaming(_ session: ExecSession) async throws -> ExitResult {
    guard try await task(session.taskID).result == nil else {
      throw DriverError(.failedPrecondition, "task \(session.taskID) is not running")
    }
    switch session.command.first {
    case "cat":
      for await input in session.input {
        switch input {
        case .stdin(let bytes): await Self.blocking { session.stdout.write(bytes) }
        case .stdinClosed: return ExitResult(exitCode: 0)
        case .resize: break
        }
      }
      return ExitResult(exitCode: 0)
    case "exit":
      return ExitResult(exitCode: Int32(session.command.last ?? "") ?? 1)
    default:
      throw DriverError.invalidArgument("unknown command \(session.command)")
    }
  }

  /// Runs `body` on its own thread: output writers may block while the client is behind.
  @discardableResult
  static func blocking<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
      Thread.detachNewThread { continuation.resume(returning: body()) }
    }
  }
}
