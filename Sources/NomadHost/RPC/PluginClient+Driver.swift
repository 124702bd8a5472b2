import Foundation
import GRPCCore
import NomadProto
import SwiftProtobuf

extension PluginClient {
  /// `Driver.Init`; `Unimplemented` is treated as success (as Nomad's client does).
  public func initDriver() async throws {
    do {
      _ = try await unary {
        try await driver.`init`(.init(), options: Self.callOptions)
      }
    } catch let error as PluginCallError where error.isUnimplemented {
      return
    }
  }

  /// `Driver.TaskConfigSchema`.
  public func taskConfigSchema() async throws -> HCLSpecProto? {
    try await unary {
      let response = try await driver.taskConfigSchema(.init(), options: Self.callOptions)
      return response.hasSpec ? response.spec : nil
    }
  }

  /// `Driver.Capabilities`.
  public func capabilities() async throws -> DriverCapabilitiesProto {
    try await unary {
      try await driver.capabilities(.init(), options: Self.callOptions).capabilities
    }
  }

  /// `Driver.Fingerprint` as a stream of responses.
  public func fingerprint() -> AsyncThrowingStream<FingerprintResponseProto, any Error> {
    let driver = self.driver
    return serverStream { handle in
      try await driver.fingerprint(.init(), options: Self.callOptions, onResponse: handle)
    }
  }

  /// `Driver.TaskEvents` as a stream of events (for all tasks).
  public func taskEvents() -> AsyncThrowingStream<DriverTaskEventProto, any Error> {
    let driver = self.driver
    return serverStream { handle in
      try await driver.taskEvents(.init(), options: Self.callOptions, onResponse: handle)
    }
  }

  /// `Driver.TaskStats` at `interval` as a stream of stats.
  public func taskStats(taskID: String, interval: Duration = .seconds(1))
    -> AsyncThrowingStream<TaskStatsProto, any Error>
  {
    var request = Hashicorp_Nomad_Plugins_Drivers_Proto_TaskStatsRequest()
    request.taskID = taskID
    request.collectionInterval = protoDuration(interval)
    let driver = self.driver
    let message = request
    let stream: AsyncThrowingStream<Hashicorp_Nomad_Plugins_Drivers_Proto_TaskStatsResponse, any Error> =
      serverStream { handle in
        try await driver.taskStats(message, options: Self.callOptions, onResponse: handle)
      }
    return AsyncThrowingStream { continuation in
      let task = Task {
        do {
          for try await response in stream { continuation.yield(response.stats) }
          continuation.finish()
        } catch {
          continuation.finish(throwing: error)
        }
      }
      continuation.onTermination = { _ in task.cancel() }
    }
  }

  /// `Driver.RecoverTask` with a stored handle.
  public func recoverTask(taskID: String, handle: TaskHandleProto) async throws {
    var request = Hashicorp_Nomad_Plugins_Drivers_Proto_RecoverTaskRequest()
    request.taskID = taskID
    request.handle = handle
    _ = try await unary {
      try await driver.recoverTask(request, options: Self.callOptions)
    }
  }

  /// `Driver.StartTask`. A response whose `result` is not SUCCESS is turned into an error as
  /// Nomad's client does (RETRY = recoverable, FATAL = not).
  public func startTask(_ config: TaskConfigProto) async throws -> StartTaskResponseProto {
    var request = Hashicorp_Nomad_Plugins_Drivers_Proto_StartTaskRequest()
    request.task = config
    let response = try await unary {
      try await driver.startTask(request, options: Self.callOptions)
    }
    switch response.result {
    case .success:
      return response
    case .retry:
      throw PluginCallError.rpc(code: .failedPrecondition, message: response.driverErrorMsg, recoverable: true)
    default:
      throw PluginCallError.other(response.driverErrorMsg)
    }
  }

  /// `Driver.WaitTask`: blocks until the task exits.
  public func waitTask(taskID: String) async throws -> WaitTaskResponseProto {
    var request = Hashicorp_Nomad_Plugins_Drivers_Proto_WaitTaskRequest()
    request.taskID = taskID
    return try await unary {
      try await driver.waitTask(request, options: Self.callOptions)
    }
  }

  /// `Driver.StopTask` with a grace period and signal ("" lets the driver choose).
  public func stopTask(taskID: String, timeout: Duration, signal: String) async throws {
    var request = Hashicorp_Nomad_Plugins_Drivers_Proto_StopTaskRequest()
    request.taskID = taskID
    request.timeout = protoDuration(timeout)
    request.signal = signal
    _ = try await unary {
      try await driver.stopTask(request, options: Self.callOptions)
    }
  }

  /// `Driver.DestroyTask`.
  public func destroyTask(taskID: String, force: Bool) async throws {
    var request = Hashicorp_Nomad_Plugins_Drivers_Proto_DestroyTaskRequest()
    request.taskID = taskID
    request.force = force
    _ = try await unary {
      try await driver.destroyTask(request, options: Self.callOptions)
    }
  }

  /// `Driver.InspectTask` (Nomad's client never calls it).
  public func inspectTask(taskID: String) async throws -> InspectTaskResponseProto {
    var request = Hashicorp_Nomad_Plugins_Drivers_Proto_InspectTaskRequest()
    request.taskID = taskID
    return try await unary {
      try await driver.inspectTask(request, options: Self.callOptions)
    }
  }

  /// `Driver.Shutdown`; `Unimplemented` is ignored. Nomad bounds it with 2 s.
  public func shutdownDriver(timeout: Duration = .seconds(2)) async throws {
    var options = Self.callOptions
    options.timeout = timeout
    do {
      _ = try await unary {
        try await driver.shutdown(.init(), options: options)
      }
    } catch let error as PluginCallError where error.isUnimplemented {
      return
    }
  }

  /// `Driver.SignalTask` with a signal name such as "SIGHUP".
  public func signalTask(taskID: String, signal: String) async throws {
    var request = Hashicorp_Nomad_Plugins_Drivers_Proto_SignalTaskRequest()
    request.taskID = taskID
    request.signal = signal
    _ = try await unary {
      try await driver.signalTask(request, options: Self.callOptions)
    }
  }

  /// `Driver.ExecTask`: runs `command` in the task and returns its output and exit result.
  public func execTask(taskID: String, command: [String], timeout: Duration) async throws
    -> ExecTaskResponseProto
  {
    var request = Hashicorp_Nomad_Plugins_Drivers_Proto_ExecTaskRequest()
    request.taskID = taskID
    request.command = command
    request.timeout = protoDuration(timeout)
    return try await unary {
      try await driver.execTask(request, options: Self.callOptions)
    }
  }

  /// `Driver.CreateNetwork` (only for drivers with `must_create_network`).
  public func createNetwork(allocID: String, hostname: String) async throws -> CreateNetworkResponseProto {
    var request = Hashicorp_Nomad_Plugins_Drivers_Proto_CreateNetworkRequest()
    request.allocID = allocID
    request.hostname = hostname
    return try await unary {
      try await driver.createNetwork(request, options: Self.callOptions)
    }
  }

  /// `Driver.DestroyNetwork`.
  public func destroyNetwork(allocID: String, spec: NetworkIsolationSpecProto?) async throws {
    var request = Hashicorp_Nomad_Plugins_Drivers_Proto_DestroyNetworkRequest()
    request.allocID = allocID
    if let spec { request.isolationSpec = spec }
    _ = try await unary {
      try await driver.destroyNetwork(request, options: Self.callOptions)
    }
  }
}

/// A protobuf Duration from a Swift Duration.
func protoDuration(_ duration: Duration) -> Google_Protobuf_Duration {
  let (seconds, attoseconds) = duration.components
  return Google_Protobuf_Duration(seconds: seconds, nanos: Int32(attoseconds / 1_000_000_000))
}
