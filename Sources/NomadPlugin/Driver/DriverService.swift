import Foundation
import GRPCCore
import NomadProto
import SwiftProtobuf

typealias DriverProto = Hashicorp_Nomad_Plugins_Drivers_Proto_Driver

/// Serves `hashicorp.nomad.plugins.drivers.proto.Driver` by forwarding to a `NomadDriver`.
struct DriverService<Driver: NomadDriver>: DriverProto.SimpleServiceProtocol {
  let driver: Driver

  private func mapErrors<T>(_ body: () async throws -> T) async throws -> T {
    do { return try await body() } catch { throw error.asRPCError }
  }

  /// Runs a long-lived handler body (a stream Nomad ends by going away, an exec) so that the
  /// driver sees the caller leave as task cancellation. grpc-swift does not cancel a handler's
  /// task when the client cancels or disconnects; it only calls `withRPCCancellationHandler`'s
  /// handler. The body runs in a task cancelled from there, and when this handler's own task is.
  private func untilRPCCancelled<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let work = Task { try await body() }
    return try await withTaskCancellationHandler {
      try await withRPCCancellationHandler {
        try await mapErrors { try await work.value }
      } onCancelRPC: {
        work.cancel()
      }
    } onCancel: {
      work.cancel()
    }
  }

  func taskConfigSchema(
    request: Hashicorp_Nomad_Plugins_Drivers_Proto_TaskConfigSchemaRequest, context: ServerContext
  ) async throws -> Hashicorp_Nomad_Plugins_Drivers_Proto_TaskConfigSchemaResponse {
    var response = Hashicorp_Nomad_Plugins_Drivers_Proto_TaskConfigSchemaResponse()
    response.spec = driver.taskConfigSchema.spec
    return response
  }

  func capabilities(
    request: Hashicorp_Nomad_Plugins_Drivers_Proto_CapabilitiesRequest, context: ServerContext
  ) async throws -> Hashicorp_Nomad_Plugins_Drivers_Proto_CapabilitiesResponse {
    var response = Hashicorp_Nomad_Plugins_Drivers_Proto_CapabilitiesResponse()
    response.capabilities = driver.capabilities.wire
    return response
  }

  func fingerprint(
    request: Hashicorp_Nomad_Plugins_Drivers_Proto_FingerprintRequest,
    response: RPCWriter<Hashicorp_Nomad_Plugins_Drivers_Proto_FingerprintResponse>,
    context: ServerContext
  ) async throws {
    let driver = self.driver
    try await untilRPCCancelled { try await driver.fingerprint { try await response.write($0.wire) } }
  }

  func recoverTask(
    request: Hashicorp_Nomad_Plugins_Drivers_Proto_RecoverTaskRequest, context: ServerContext
  ) async throws -> Hashicorp_Nomad_Plugins_Drivers_Proto_RecoverTaskResponse {
    try await mapErrors {
      try await driver.recoverTask(id: request.taskID, handle: TaskHandle(wire: request.handle))
      return Hashicorp_Nomad_Plugins_Drivers_Proto_RecoverTaskResponse()
    }
  }

  func startTask(
    request: Hashicorp_Nomad_Plugins_Drivers_Proto_StartTaskRequest, context: ServerContext
  ) async throws -> Hashicorp_Nomad_Plugins_Drivers_Proto_StartTaskResponse {
    try await mapErrors {
      let (handle, network) = try await driver.startTask(TaskConfig(wire: request.task))
      var response = Hashicorp_Nomad_Plugins_Drivers_Proto_StartTaskResponse()
      response.handle = handle.wire
      if let network { response.networkOverride = network.wire }
      return response
    }
  }

  func waitTask(
    request: Hashicorp_Nomad_Plugins_Drivers_Proto_WaitTaskRequest, context: ServerContext
  ) async throws -> Hashicorp_Nomad_Plugins_Drivers_Proto_WaitTaskResponse {
    try await mapErrors {
      var response = Hashicorp_Nomad_Plugins_Drivers_Proto_WaitTaskResponse()
      let (result, error) = try await driver.waitTask(id: request.taskID)
      response.result = result.wire
      if let error { response.err = error }
      return response
    }
  }

  func stopTask(
    request: Hashicorp_Nomad_Plugins_Drivers_Proto_StopTaskRequest, context: ServerContext
  ) async throws -> Hashicorp_Nomad_Plugins_Drivers_Proto_StopTaskResponse {
    try await mapErrors {
      let timeout =
        Duration.seconds(request.timeout.seconds)
        + Duration.nanoseconds(Int64(request.timeout.nanos))
      try await driver.stopTask(id: request.taskID, timeout: timeout, signal: request.signal)
      return Hashicorp_Nomad_Plugins_Drivers_Proto_StopTaskResponse()
    }
  }

  func destroyTask(
    request: Hashicorp_Nomad_Plugins_Drivers_Proto_DestroyTaskRequest, context: ServerContext
  ) async throws -> Hashicorp_Nomad_Plugins_Drivers_Proto_DestroyTaskResponse {
    try await mapErrors {
      try await driver.destroyTask(id: request.taskID, force: request.force)
      return Hashicorp_Nomad_Plugins_Drivers_Proto_DestroyTaskResponse()
    }
  }

  func inspectTask(
    request: Hashicorp_Nomad_Plugins_Drivers_Proto_InspectTaskRequest, context: ServerContext
  ) async throws -> Hashicorp_Nomad_Plugins_Drivers_Proto_InspectTaskResponse {
    try await mapErrors {
      var response = Hashicorp_Nomad_Plugins_Drivers_Proto_InspectTaskResponse()
      response.task = try await driver.inspectTask(id: request.taskID).wire
      response.driver = Hashicorp_Nomad_Plugins_Drivers_Proto_TaskDriverStatus()
      return response
    }
  }

  func taskStats(
    request: Hashicorp_Nomad_Plugins_Drivers_Proto_TaskStatsRequest,
    response: RPCWriter<Hashicorp_Nomad_Plugins_Drivers_Proto_TaskStatsResponse>,
    context: ServerContext
  ) async throws {
    let interval =
      request.hasCollectionInterval
      ? Duration.seconds(request.collectionInterval.seconds)
        + Duration.nanoseconds(Int64(request.collectionInterval.nanos))
      : .seconds(1)
    let driver = self.driver
    try await untilRPCCancelled {
      try await driver.taskStats(id: request.taskID, interval: interval) { stats in
        var message = Hashicorp_Nomad_Plugins_Drivers_Proto_TaskStatsResponse()
        message.stats = stats.wire
        try await response.write(message)
      }
    }
  }

  func taskEvents(
    request: Hashicorp_Nomad_Plugins_Drivers_Proto_TaskEventsRequest,
    response: RPCWriter<Hashicorp_Nomad_Plugins_Drivers_Proto_DriverTaskEvent>,
    context: ServerContext
  ) async throws {
    let driver = self.driver
    try await untilRPCCancelled { try await driver.taskEvents { try await response.write($0.wire) } }
  }

  func signalTask(
    request: Hashicorp_Nomad_Plugins_Drivers_Proto_SignalTaskRequest, context: ServerContext
  ) async throws -> Hashicorp_Nomad_Plugins_Drivers_Proto_SignalTaskResponse {
    try await mapErrors {
      try await driver.signalTask(id: request.taskID, signal: request.signal)
      return Hashicorp_Nomad_Plugins_Drivers_Proto_SignalTaskResponse()
    }
  }

  func execTask(
    request: Hashicorp_Nomad_Plugins_Drivers_Proto_ExecTaskRequest, context: ServerContext
  ) async throws -> Hashicorp_Nomad_Plugins_Drivers_Proto_ExecTaskResponse {
    let driver = self.driver
    return try await untilRPCCancelled {
      let timeout =
        request.hasTimeout
        ? Duration.seconds(request.timeout.seconds) + Duration.nanoseconds(Int64(request.timeout.nanos))
        : .seconds(60)
      let (stdout, stderr, result) = try await driver.execTask(
        id: request.taskID, command: request.command, timeout: timeout)
      var response = Hashicorp_Nomad_Plugins_Drivers_Proto_ExecTaskResponse()
      response.stdout = Data(stdout)
      response.stderr = Data(stderr)
      response.result = result.wire
      return response
    }
  }

  func execTaskStreaming(
    request: RPCAsyncSequence<WireExecRequest, any Error>,
    response: RPCWriter<WireExecResponse>,
    context: ServerContext
  ) async throws {
    let driver = self.driver
    try await untilRPCCancelled {
      try await ExecStreaming.serve(
        requests: request, send: { try await response.write($0) }, run: { try await driver.execTaskStreaming($0) })
    }
  }

  func createNetwork(
    request: Hashicorp_Nomad_Plugins_Drivers_Proto_CreateNetworkRequest, context: ServerContext
  ) async throws -> Hashicorp_Nomad_Plugins_Drivers_Proto_CreateNetworkResponse {
    throw RPCError(
      code: .unimplemented,
      message: "\(driver.identity.name) does not create networks; Nomad creates the group's network namespace")
  }

  func destroyNetwork(
    request: Hashicorp_Nomad_Plugins_Drivers_Proto_DestroyNetworkRequest, context: ServerContext
  ) async throws -> Hashicorp_Nomad_Plugins_Drivers_Proto_DestroyNetworkResponse {
    throw RPCError(
      code: .unimplemented,
      message: "\(driver.identity.name) does not create networks; Nomad creates the group's network namespace")
  }

  func `init`(
    request: Hashicorp_Nomad_Plugins_Drivers_Proto_InitRequest, context: ServerContext
  ) async throws -> Hashicorp_Nomad_Plugins_Drivers_Proto_InitResponse {
    Hashicorp_Nomad_Plugins_Drivers_Proto_InitResponse()
  }

  func shutdown(
    request: Hashicorp_Nomad_Plugins_Drivers_Proto_ShutdownRequest, context: ServerContext
  ) async throws -> Hashicorp_Nomad_Plugins_Drivers_Proto_ShutdownResponse {
    await driver.shutdown()
    return Hashicorp_Nomad_Plugins_Drivers_Proto_ShutdownResponse()
  }
}
