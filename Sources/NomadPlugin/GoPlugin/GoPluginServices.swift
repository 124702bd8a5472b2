import GRPCCore
import NomadProto
import SwiftProtobuf

/// `plugin.GRPCController`: Nomad asks the plugin to exit through it.
struct ControllerService: Plugin_GRPCController.SimpleServiceProtocol {
  let onShutdown: @Sendable () -> Void

  func shutdown(request: Plugin_Empty, context: ServerContext) async throws -> Plugin_Empty {
    onShutdown()
    return Plugin_Empty()
  }
}

/// `plugin.GRPCBroker`: milo offers no extra brokered connections; the stream is kept open
/// and incoming connection offers are read and ignored.
struct BrokerService: Plugin_GRPCBroker.SimpleServiceProtocol {
  func startStream(
    request: RPCAsyncSequence<Plugin_ConnInfo, any Error>, response: RPCWriter<Plugin_ConnInfo>,
    context: ServerContext
  ) async throws {
    for try await _ in request {}
  }
}

/// `plugin.GRPCStdio`: the plugin's own stdout/stderr are not forwarded (stdout carries only the
/// handshake and stderr goes to Nomad's log directly), so the stream stays open and silent.
struct StdioService: Plugin_GRPCStdio.SimpleServiceProtocol {
  func streamStdio(
    request: Google_Protobuf_Empty, response: RPCWriter<Plugin_StdioData>, context: ServerContext
  ) async throws {
    try await waitUntilCancelled()
  }
}

/// `grpc.health.v1.Health`: the service `plugin` (and the server as a whole) is SERVING.
struct HealthService: Grpc_Health_V1_Health.SimpleServiceProtocol {
  func check(request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext) async throws
    -> Grpc_Health_V1_HealthCheckResponse
  {
    guard request.service.isEmpty || request.service == "plugin" else {
      throw RPCError(code: .notFound, message: "unknown service \(request.service)")
    }
    var response = Grpc_Health_V1_HealthCheckResponse()
    response.status = .serving
    return response
  }

  func watch(
    request: Grpc_Health_V1_HealthCheckRequest,
    response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>, context: ServerContext
  ) async throws {
    var message = Grpc_Health_V1_HealthCheckResponse()
    message.status =
      request.service.isEmpty || request.service == "plugin" ? .serving : .serviceUnknown
    try await response.write(message)
    try await waitUntilCancelled()
  }
}

/// Suspends until the current task is cancelled (the RPC ends or the server stops).
func waitUntilCancelled() async throws {
  while true {
    try await Task.sleep(for: .seconds(3600))
  }
}
