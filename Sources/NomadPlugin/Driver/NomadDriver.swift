/// Identity a driver reports in `PluginInfo`.
public struct PluginIdentity: Sendable {
  /// What jobs write in `driver = "..."`.
  public var name: String
  /// A semantic version, e.g. `0.1.0`.
  public var version: String

  public init(name: String, version: String) {
    self.name = name
    self.version = version
  }
}

/// A Nomad task driver. `PluginServer` serves one over go-plugin gRPC.
///
/// Methods throw `DriverError` for errors a person should read; anything else becomes
/// `Internal`. Optional operations have default implementations that answer `Unimplemented`.
public protocol NomadDriver: Sendable {
  var identity: PluginIdentity { get }
  /// The plugin's own options (the agent's `plugin "<name>" { config {} }`).
  var configSchema: HCLSchema { get }
  /// The options a job's task `config {}` may set.
  var taskConfigSchema: HCLSchema { get }
  var capabilities: DriverCapabilities { get }

  /// Applies the plugin options (go-cty msgpack). `agentConfig` is nil when Nomad only validates.
  func setConfig(msgpack: [UInt8], agentConfig: AgentConfig?) async throws
  /// Streams fingerprints: one at once, then one on every change, until cancelled.
  func fingerprint(_ send: @Sendable (Fingerprint) async throws -> Void) async throws
  /// Streams task events until cancelled.
  func taskEvents(_ send: @Sendable (DriverTaskEvent) async throws -> Void) async throws

  func startTask(_ config: TaskConfig) async throws -> (TaskHandle, NetworkOverride?)
  func recoverTask(id: String, handle: TaskHandle) async throws
  /// Blocks until the task exits; `error` explains an exit the driver could not observe.
  func waitTask(id: String) async throws -> (result: ExitResult, error: String?)
  func stopTask(id: String, timeout: Duration, signal: String) async throws
  func destroyTask(id: String, force: Bool) async throws
  func inspectTask(id: String) async throws -> TaskStatus
  func signalTask(id: String, signal: String) async throws
  func taskStats(
    id: String, interval: Duration, _ send: @Sendable (TaskStats) async throws -> Void
  ) async throws
  func execTask(id: String, command: [String], timeout: Duration) async throws -> (
    stdout: [UInt8], stderr: [UInt8], result: ExitResult
  )
  /// Runs one streaming exec (`nomad alloc exec`) to its end and returns the command's exit;
  /// the SDK speaks the streaming protocol (setup, frames, flow control, close and exit frames).
  /// Cancellation means the client went away: stop the command.
  func execTaskStreaming(_ session: ExecSession) async throws -> ExitResult
  /// Called when Nomad shuts the driver down (newer agents only).
  func shutdown() async
}

extension NomadDriver {
  public func taskStats(
    id: String, interval: Duration, _ send: @Sendable (TaskStats) async throws -> Void
  ) async throws {
    throw DriverError(.unimplemented, "\(identity.name) does not report task stats yet")
  }

  public func execTask(id: String, command: [String], timeout: Duration) async throws -> (
    stdout: [UInt8], stderr: [UInt8], result: ExitResult
  ) {
    throw DriverError(.unimplemented, "\(identity.name) does not support exec yet")
  }

  public func execTaskStreaming(_ session: ExecSession) async throws -> ExitResult {
    throw DriverError(.unimplemented, "\(identity.name) does not support exec yet")
  }

  public func shutdown() async {}
}
