import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import NomadProto
import SwiftProtobuf
import Synchronization

/// A gRPC connection to a launched plugin process, with go-plugin's client behaviour: on connect
/// it opens the broker and stdio streams (their failures are tolerated), every call is plain
/// HTTP/2 without TLS, and `kill()` is go-plugin's `Kill` (controller Shutdown, up to 2 s for the
/// process to exit, then SIGKILL).
///
/// Errors thrown by calls are `PluginCallError`s whose text is what Nomad shows
/// (`rpc error: code = ... desc = ...`), with `Unavailable` mapped to `.pluginShutdown` when the
/// process has exited within 3 s (Nomad's `HandleGrpcErr`).
public final class PluginClient: Sendable {
  typealias Transport = HTTP2ClientTransport.Posix

  /// The plugin process.
  public let process: PluginProcess
  let grpc: GRPCClient<Transport>
  let base: Hashicorp_Nomad_Plugins_Base_Proto_BasePlugin.Client<Transport>
  let driver: Hashicorp_Nomad_Plugins_Drivers_Proto_Driver.Client<Transport>
  let controller: Plugin_GRPCController.Client<Transport>
  let healthService: Grpc_Health_V1_Health.Client<Transport>
  private let connections: Mutex<Task<Void, Never>?>
  private let helpers: Mutex<[Task<Void, Never>]>
  let closed = Latch<Void>()
  private let killed = Latch<Void>()
  /// Warnings go-plugin would log while connecting (e.g. no stdio service).
  let warnings = Mutex<[String]>([])

  /// Options for every call: fail fast like grpc-go (no wait-for-ready) and accept messages up
  /// to `math.MaxInt32` bytes like go-plugin's dialer.
  static let callOptions: CallOptions = {
    var options = CallOptions.defaults
    options.waitForReady = false
    options.maxResponseMessageBytes = Int(Int32.max)
    options.maxRequestMessageBytes = Int(Int32.max)
    return options
  }()

  private init(process: PluginProcess, grpc: GRPCClient<Transport>) {
    self.process = process
    self.grpc = grpc
    self.base = .init(wrapping: grpc)
    self.driver = .init(wrapping: grpc)
    self.controller = .init(wrapping: grpc)
    self.healthService = .init(wrapping: grpc)
    self.connections = Mutex(nil)
    self.helpers = Mutex([])
  }

  /// Launches `path` (see `PluginProcess.launch`) and connects to it. When `healthCheck` is true
  /// the gRPC health service is asked about "plugin" first (Nomad itself never pings driver
  /// plugins; this checks the go-plugin contract).
  public static func launch(
    path: String, options: PluginLaunchOptions = PluginLaunchOptions(), healthCheck: Bool = true
  ) async throws -> PluginClient {
    let process = try await PluginProcess.launch(path: path, options: options)
    let client: PluginClient
    do {
      client = try connect(to: process)
    } catch {
      process.sigkill()
      _ = await process.waitForExit(timeout: .seconds(2))
      throw error
    }
    if healthCheck {
      do {
        let status = try await client.health()
        guard status == .serving else {
          throw PluginCallError.other("plugin health check: service \"plugin\" is \(status)")
        }
      } catch {
        await client.kill()
        throw error
      }
    }
    return client
  }

  /// Connects to an already launched plugin process.
  public static func connect(to process: PluginProcess) throws -> PluginClient {
    let target: any ResolvableTarget
    if process.handshake.network == "unix" {
      target = .unixDomainSocket(path: process.handshake.address)
    } else if let hostPort = process.handshake.tcpHostPort {
      target = .dns(host: hostPort.host, port: hostPort.port)
    } else {
      throw PluginCallError.other("unknown address type: \(process.handshake.address)")
    }
    var config = HTTP2ClientTransport.Posix.Config.defaults
    config.backoff.initial = .milliseconds(50)
    config.backoff.max = .seconds(1)
    let transport = try HTTP2ClientTransport.Posix(
      target: target, transportSecurity: .plaintext, config: config)
    let grpc = GRPCClient(transport: transport)
    let client = PluginClient(process: process, grpc: grpc)
    let connectionTask = Task {
      do {
        try await grpc.runConnections()
      } catch {
        client.warnings.withLock { $0.append("gRPC client stopped: \(error)") }
      }
    }
    client.connections.withLock { $0 = connectionTask }
    client.startGoPluginStreams()
    return client
  }

  /// go-plugin's `newGRPCClient`: the broker stream and the stdio stream.
  private func startGoPluginStreams() {
    let broker = Plugin_GRPCBroker.Client(wrapping: grpc)
    let stdio = Plugin_GRPCStdio.Client(wrapping: grpc)
    let closed = self.closed
    let brokerTask = Task {
      let request = StreamingClientRequest<Plugin_ConnInfo>(producer: { _ in _ = await closed.wait() })
      _ = try? await broker.startStream(request: request, options: Self.callOptions) { response in
        for try await _ in response.messages {}
      }
    }
    let stdioTask = Task { [weak self] in
      do {
        try await stdio.streamStdio(Google_Protobuf_Empty(), options: Self.callOptions) { response in
          // Nomad sets neither SyncStdout nor SyncStderr: the data is discarded.
          for try await _ in response.messages {}
        }
      } catch let error as RPCError where error.code == .unavailable || error.code == .unimplemented {
        self?.warnings.withLock { $0.append("stdio service not available, stdout/stderr syncing unavailable") }
      } catch {}
    }
    helpers.withLock { $0 += [brokerTask, stdioTask] }
  }

  /// Warnings collected while connecting.
  public var connectionWarnings: [String] { warnings.withLock { $0 } }

  // MARK: - Errors

  /// Nomad's `HandleGrpcErr`: an `Unavailable` (or, for streams, `Canceled`) status becomes
  /// `.pluginShutdown` if the plugin process exits within 3 s.
  func mapError(_ error: any Error, streaming: Bool = false) async -> PluginCallError {
    let mapped = PluginCallError.from(error)
    if case .rpc(let code, _, _) = mapped,
      code == .unavailable || (streaming && code == .cancelled)
    {
      if await process.waitForExit(timeout: .seconds(3)) != nil { return .pluginShutdown }
    } else if case .other = mapped, !process.isRunning {
      return .pluginShutdown
    }
    return mapped
  }

  /// Runs a unary call with error mapping.
  func unary<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
    do {
      return try await body()
    } catch {
      throw await mapError(error)
    }
  }

  /// Wraps a server-streaming call as an `AsyncThrowingStream`; cancelling the consumer cancels
  /// the RPC.
  func serverStream<Message: Sendable>(
    _ start:
      @escaping @Sendable (
        _ handle: @escaping @Sendable (StreamingClientResponse<Message>) async throws -> Void
      ) async throws -> Void
  ) -> AsyncThrowingStream<Message, any Error> {
    let (stream, continuation) = AsyncThrowingStream<Message, any Error>.makeStream()
    let task = Task {
      do {
        try await start { response in
          for try await message in response.messages { continuation.yield(message) }
        }
        continuation.finish()
      } catch {
        continuation.finish(throwing: await self.mapError(error, streaming: true))
      }
    }
    continuation.onTermination = { _ in task.cancel() }
    return stream
  }

  // MARK: - Health and lifecycle

  /// `grpc.health.v1.Health/Check{service: "plugin"}` (go-plugin's `Ping`).
  public func health() async throws -> Grpc_Health_V1_HealthCheckResponse.ServingStatus {
    var request = Grpc_Health_V1_HealthCheckRequest()
    request.service = "plugin"
    return try await unary {
      try await healthService.check(request, options: Self.callOptions).status
    }
  }

  /// go-plugin's `Kill()`: `GRPCController.Shutdown` (awaited until answered or until the process
  /// dies; `shutdownTimeout` bounds it, nil = no bound as in go-plugin), close the connection,
  /// wait up to 2 s for the process to exit, else SIGKILL; then wait for it to be reaped.
  public func kill(shutdownTimeout: Duration? = nil) async {
    guard killed.fulfil(()) else {
      _ = await process.waitForExit()
      return
    }
    if process.isRunning {
      let controller = self.controller
      let process = self.process
      await withTaskGroup(of: Void.self) { group in
        group.addTask {
          _ = try? await controller.shutdown(Plugin_Empty(), options: Self.callOptions)
        }
        group.addTask { _ = await process.waitForExit() }
        if let shutdownTimeout {
          group.addTask { try? await Task.sleep(for: shutdownTimeout) }
        }
        _ = await group.next()
        group.cancelAll()
      }
    }
    close()
    if await process.waitUntilDone(timeout: .seconds(2)) { return }
    process.sigkill()
    _ = await process.waitForExit()
  }

  /// SIGKILLs the plugin at once (a crash, for fault tests) and closes the connection.
  public func sigkill() async {
    process.sigkill()
    _ = await process.waitForExit()
    close()
  }

  /// Closes the gRPC connection (cancelling in-flight calls) without touching the process.
  public func close() {
    closed.fulfil(())
    let tasks = helpers.withLock { tasks -> [Task<Void, Never>] in
      defer { tasks.removeAll() }
      return tasks
    }
    for task in tasks { task.cancel() }
    grpc.beginGracefulShutdown()
    connections.withLock { $0?.cancel() }
  }

  /// Whether the process is still running.
  public var isRunning: Bool { process.isRunning }
  /// The plugin's pid.
  public var pid: Int32 { process.pid }
}
