import Foundation
import GRPCCore
import NomadProto

/// Short names for the driver protocol's messages.
public enum Proto {
  public typealias TaskConfig = Hashicorp_Nomad_Plugins_Drivers_Proto_TaskConfig
  public typealias Mount = Hashicorp_Nomad_Plugins_Drivers_Proto_Mount
  public typealias Device = Hashicorp_Nomad_Plugins_Drivers_Proto_Device
  public typealias TaskHandle = Hashicorp_Nomad_Plugins_Drivers_Proto_TaskHandle
  public typealias TaskState = Hashicorp_Nomad_Plugins_Drivers_Proto_TaskState
  public typealias TaskStatus = Hashicorp_Nomad_Plugins_Drivers_Proto_TaskStatus
  public typealias ExitResult = Hashicorp_Nomad_Plugins_Drivers_Proto_ExitResult
  public typealias Capabilities = Hashicorp_Nomad_Plugins_Drivers_Proto_DriverCapabilities
  public typealias Fingerprint = Hashicorp_Nomad_Plugins_Drivers_Proto_FingerprintResponse
  public typealias TaskEvent = Hashicorp_Nomad_Plugins_Drivers_Proto_DriverTaskEvent
  public typealias NetworkOverride = Hashicorp_Nomad_Plugins_Drivers_Proto_NetworkOverride
  public typealias TaskStats = Hashicorp_Nomad_Plugins_Drivers_Proto_TaskStats
  public typealias ResourceUsage = Hashicorp_Nomad_Plugins_Drivers_Proto_TaskResourceUsage
  public typealias MemoryUsage = Hashicorp_Nomad_Plugins_Drivers_Proto_MemoryUsage
  public typealias CPUUsage = Hashicorp_Nomad_Plugins_Drivers_Proto_CPUUsage
  public typealias ExecIO = Hashicorp_Nomad_Plugins_Drivers_Proto_ExecTaskStreamingIOOperation
  public typealias Attribute = Hashicorp_Nomad_Plugins_Shared_Structs_Attribute
  public typealias AgentConfig = Hashicorp_Nomad_Plugins_Base_Proto_NomadConfig
  public typealias ExecStreamingRequest = Hashicorp_Nomad_Plugins_Drivers_Proto_ExecTaskStreamingRequest
  public typealias ExecStreamingResponse = Hashicorp_Nomad_Plugins_Drivers_Proto_ExecTaskStreamingResponse
}

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
  var capabilities: Proto.Capabilities { get }

  /// Applies the plugin options (go-cty msgpack). `agentConfig` is nil when Nomad only validates.
  func setConfig(msgpack: [UInt8], agentConfig: Proto.AgentConfig?) async throws
  /// Streams fingerprints: one at once, then one on every change, until cancelled.
  func fingerprint(_ send: @Sendable (Proto.Fingerprint) async throws -> Void) async throws
  /// Streams task events until cancelled.
  func taskEvents(_ send: @Sendable (Proto.TaskEvent) async throws -> Void) async throws

  func startTask(_ config: Proto.TaskConfig) async throws -> (
    Proto.TaskHandle, Proto.NetworkOverride?
  )
  func recoverTask(id: String, handle: Proto.TaskHandle) async throws
  /// Blocks until the task exits; `error` explains an exit the driver could not observe.
  func waitTask(id: String) async throws -> (result: Proto.ExitResult, error: String?)
  func stopTask(id: String, timeout: Duration, signal: String) async throws
  func destroyTask(id: String, force: Bool) async throws
  func inspectTask(id: String) async throws -> Proto.TaskStatus
  func signalTask(id: String, signal: String) async throws
  func taskStats(
    id: String, interval: Duration, _ send: @Sendable (Proto.TaskStats) async throws -> Void
  ) async throws
  func execTask(id: String, command: [String], timeout: Duration) async throws -> (
    stdout: [UInt8], stderr: [UInt8], result: Proto.ExitResult
  )
  func execTaskStreaming(
    requests: RPCAsyncSequence<Proto.ExecStreamingRequest, any Error>,
    send: @Sendable (Proto.ExecStreamingResponse) async throws -> Void
  ) async throws
  /// Called when Nomad shuts the driver down (newer agents only).
  func shutdown() async
}

extension NomadDriver {
  public func taskStats(
    id: String, interval: Duration, _ send: @Sendable (Proto.TaskStats) async throws -> Void
  ) async throws {
    throw DriverError(.unimplemented, "\(identity.name) does not report task stats yet")
  }

  public func execTask(id: String, command: [String], timeout: Duration) async throws -> (
    stdout: [UInt8], stderr: [UInt8], result: Proto.ExitResult
  ) {
    throw DriverError(.unimplemented, "\(identity.name) does not support exec yet")
  }

  public func execTaskStreaming(
    requests: RPCAsyncSequence<Proto.ExecStreamingRequest, any Error>,
    send: @Sendable (Proto.ExecStreamingResponse) async throws -> Void
  ) async throws {
    throw DriverError(.unimplemented, "\(identity.name) does not support exec yet")
  }

  public func shutdown() async {}
}
