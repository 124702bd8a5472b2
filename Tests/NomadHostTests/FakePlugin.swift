import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import NomadPlugin
import NomadProto
import SwiftProtobuf
import Synchronization

@testable import NomadHost

/// A fake driver plugin for unit tests. A shell stub is what NomadHost launches (so the process
/// handling is real); each stub asks the test process to serve gRPC for it: the stub appends its
/// pid to `launches`, the host starts an in-process gRPC server on `s.<pid>.sock`, writes the
/// handshake to `ready.<pid>`, and the stub prints it. When the stub dies its server is torn
/// down, so calls in flight fail as they would with a crashed plugin. Tasks live in the host
/// (like tasks under milo's supervisors), so they survive plugin restarts.
final class FakePluginHost: Sendable {
  let dir: TempDir
  let stub: String
  let driver = FakeDriverState()
  private let servers = Mutex<[Int32: Task<Void, Never>]>([:])
  private let watcher = Mutex<Task<Void, Never>?>(nil)
  /// When false, Controller.Shutdown is answered but the stub keeps running (tests SIGKILL).
  let exitOnShutdown = Atomic<Bool>(true)

  init() throws {
    dir = TempDir("fakeplugin")
    stub = dir.script(
      "fake-driver",
      """
      echo $$ >> \(dir.file("launches"))
      i=0
      while [ ! -f \(dir.file("ready")).$$ ]; do sleep 0.01; i=$((i+1)); [ $i -gt 2000 ] && exit 3; done
      cat \(dir.file("ready")).$$
      exec sleep 1000
      """)
    let task = Task { [weak self] in
      var seen: Set<Int32> = []
      while !Task.isCancelled {
        guard let self else { return }
        let pids = self.dir.readText("launches").split(separator: "\n").compactMap { Int32($0) }
        for pid in pids where !seen.contains(pid) {
          seen.insert(pid)
          await self.serve(pid: pid)
        }
        for pid in seen where kill(pid, 0) != 0 {
          self.stopServer(pid)
        }
        try? await Task.sleep(for: .milliseconds(5))
      }
    }
    watcher.withLock { $0 = task }
  }

  /// Pids of every launch, in order.
  var launches: [Int32] { dir.readText("launches").split(separator: "\n").compactMap { Int32($0) } }

  private func serve(pid: Int32) async {
    let socket = dir.file("s.\(pid).sock")
    let transport = HTTP2ServerTransport.Posix(address: .unixDomainSocket(path: socket), transportSecurity: .plaintext)
    let server = GRPCServer(
      transport: transport,
      services: [
        FakeBase(pid: pid, state: driver), FakeDriverService(pid: pid, state: driver),
        FakeController(pid: pid, state: driver, host: self), FakeHealth(),
      ])
    let task = Task<Void, Never> { try? await server.serve() }
    servers.withLock { $0[pid] = task }
    _ = try? await transport.listeningAddress
    try? Data("1|2|unix|\(socket)|grpc|\n".utf8).write(to: URL(fileURLWithPath: dir.file("ready.\(pid)")))
  }

  private func stopServer(_ pid: Int32) {
    let task = servers.withLock { $0.removeValue(forKey: pid) }
    task?.cancel()
  }

  func shutdownRequested(pid: Int32) {
    if exitOnShutdown.load(ordering: .relaxed) { kill(pid, SIGTERM) }
  }

  func cleanup() {
    watcher.withLock { $0?.cancel() }
    let all = servers.withLock { servers -> [Task<Void, Never>] in
      defer { servers.removeAll() }
      return Array(servers.values)
    }
    for task in all { task.cancel() }
    for pid in launches { kill(pid, SIGKILL) }
    // Servers unlink their sockets as they stop; retry until the directory is gone.
    for _ in 0..<50 where FileManager.default.fileExists(atPath: dir.path) {
      try? FileManager.default.removeItem(atPath: dir.path)
      if FileManager.default.fileExists(atPath: dir.path) { usleep(20_000) }
    }
  }
}

/// One recorded RPC.
struct FakeCall: Sendable, Equatable {
  var pid: Int32
  var method: String
  var detail: String = ""
}

/// A task the fake driver runs.
final class FakeTask: Sendable {
  let config: TaskConfigProto
  let exit = Latch<ExitResultProto>()
  init(config: TaskConfigProto) { self.config = config }
}

/// Shared state and knobs of the fake driver.
final class FakeDriverState: Sendable {
  struct Knobs: Sendable {
    /// StartTask fails with this (code, message, recoverable).
    var startError: (RPCError.Code, String, Bool)?
    /// Tasks exit by themselves with this code after `exitAfter`.
    var exitCode: Int32 = 0
    var exitAfter: Duration?
    /// The exit code StopTask produces.
    var stopExitCode: Int32 = 130
  }

  let knobs = Mutex(Knobs())
  let calls = Mutex<[FakeCall]>([])
  let tasks = Mutex<[String: FakeTask]>([:])
  let events = Broadcaster<DriverTaskEventProto>()

  func record(_ pid: Int32, _ method: String, _ detail: String = "") {
    calls.withLock { $0.append(FakeCall(pid: pid, method: method, detail: detail)) }
  }

  func methods(_ pid: Int32? = nil) -> [String] {
    calls.withLock { calls in calls.filter { pid == nil || $0.pid == pid }.map(\.method) }
  }

  func task(_ id: String) -> FakeTask? { tasks.withLock { $0[id] } }
}

struct FakeBase: Hashicorp_Nomad_Plugins_Base_Proto_BasePlugin.SimpleServiceProtocol {
  let pid: Int32
  let state: FakeDriverState

  func pluginInfo(request: Hashicorp_Nomad_Plugins_Base_Proto_PluginInfoRequest, context: ServerContext) async throws
    -> Hashicorp_Nomad_Plugins_Base_Proto_PluginInfoResponse
  {
    state.record(pid, "PluginInfo")
    var response = Hashicorp_Nomad_Plugins_Base_Proto_PluginInfoResponse()
    response.type = .driver
    response.name = "fake"
    response.pluginVersion = "0.2.0"
    response.pluginApiVersions = ["0.1.0"]
    return response
  }

  func configSchema(request: Hashicorp_Nomad_Plugins_Base_Proto_ConfigSchemaRequest, context: ServerContext)
    async throws
    -> Hashicorp_Nomad_Plugins_Base_Proto_ConfigSchemaResponse
  {
    state.record(pid, "ConfigSchema")
    var response = Hashicorp_Nomad_Plugins_Base_Proto_ConfigSchemaResponse()
    response.spec = HCLSchema([HCLAttribute("mode", type: "string", default: "\"fast\"")]).spec
    return response
  }

  func setConfig(request: Hashicorp_Nomad_Plugins_Base_Proto_SetConfigRequest, context: ServerContext) async throws
    -> Hashicorp_Nomad_Plugins_Base_Proto_SetConfigResponse
  {
    let detail =
      request.hasNomadConfig
      ? "nomad_config \(request.nomadConfig.driver.clientMinPort)-\(request.nomadConfig.driver.clientMaxPort)"
      : "no nomad_config"
    state.record(pid, "SetConfig", detail)
    return .init()
  }
}

struct FakeController: Plugin_GRPCController.SimpleServiceProtocol {
  let pid: Int32
  let state: FakeDriverState
  let host: FakePluginHost

  func shutdown(request: Plugin_Empty, context: ServerContext) async throws -> Plugin_Empty {
    state.record(pid, "Shutdown")
    host.shutdownRequested(pid: pid)
    return Plugin_Empty()
  }
}

struct FakeHealth: Grpc_Health_V1_Health.SimpleServiceProtocol {
  func check(request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext) async throws
    -> Grpc_Health_V1_HealthCheckResponse
  {
    var response = Grpc_Health_V1_HealthCheckResponse()
    response.status = request.service == "plugin" ? .serving : .serviceUnknown
    return response
  }

  func watch(
    request: Grpc_Health_V1_HealthCheckRequest, response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>,
    context: ServerContext
  ) async throws {}
}

struct FakeDriverService: Hashicorp_Nomad_Plugins_Drivers_Proto_Driver.SimpleServiceProtocol {
  let pid: Int32
  let state: FakeDriverState

  func `init`(request: Hashicorp_Nomad_Plugins_Drivers_Proto_InitRequest, context: ServerContext) async throws
    -> Hashicorp_Nomad_Plugins_Drivers_Proto_InitResponse
  {
    state.record(pid, "Init")
    throw RPCError(code: .unimplemented, message: "not implemented")
  }

  func taskConfigSchema(request: Hashicorp_Nomad_Plugins_Drivers_Proto_TaskConfigSchemaRequest, context: ServerContext)
    async throws -> Hashicorp_Nomad_Plugins_Drivers_Proto_TaskConfigSchemaResponse
  {
    state.record(pid, "TaskConfigSchema")
    var response = Hashicorp_Nomad_Plugins_Drivers_Proto_TaskConfigSchemaResponse()
    response.spec =
      HCLSchema([
        HCLAttribute("command", type: "string"), HCLAttribute("args", type: "list(string)"),
      ]).spec
    return response
  }

  func capabilities(request: Hashicorp_Nomad_Plugins_Drivers_Proto_CapabilitiesRequest, context: ServerContext)
    async throws -> Hashicorp_Nomad_Plugins_Drivers_Proto_CapabilitiesResponse
  {
    state.record(pid, "Capabilities")
    var response = Hashicorp_Nomad_Plugins_Drivers_Proto_CapabilitiesResponse()
    response.capabilities.fsIsolation = .image
    response.capabilities.sendSignals = true
    response.capabilities.networkIsolationModes = [.host, .group]
    return response
  }

  func fingerprint(
    request: Hashicorp_Nomad_Plugins_Drivers_Proto_FingerprintRequest,
    response: RPCWriter<Hashicorp_Nomad_Plugins_Drivers_Proto_FingerprintResponse>, context: ServerContext
  ) async throws {
    state.record(pid, "Fingerprint")
    var message = Hashicorp_Nomad_Plugins_Drivers_Proto_FingerprintResponse()
    message.health = .healthy
    message.healthDescription = "Healthy"
    var attribute = Hashicorp_Nomad_Plugins_Shared_Structs_Attribute()
    attribute.value = .boolVal(true)
    message.attributes["driver.fake"] = attribute
    try await response.write(message)
    while !Task.isCancelled { try await Task.sleep(for: .seconds(3600)) }
  }

  func recoverTask(request: Hashicorp_Nomad_Plugins_Drivers_Proto_RecoverTaskRequest, context: ServerContext)
    async throws -> Hashicorp_Nomad_Plugins_Drivers_Proto_RecoverTaskResponse
  {
    state.record(pid, "RecoverTask", request.taskID)
    guard state.task(request.taskID) != nil, request.handle.config.id == request.taskID else {
      throw RPCError(code: .notFound, message: "task not found for given id: \(request.taskID)")
    }
    return .init()
  }

  func startTask(request: Hashicorp_Nomad_Plugins_Drivers_Proto_StartTaskRequest, context: ServerContext) async throws
    -> Hashicorp_Nomad_Plugins_Drivers_Proto_StartTaskResponse
  {
    state.record(pid, "StartTask", request.task.id)
    let knobs = state.knobs.withLock { $0 }
    if let (code, message, recoverable) = knobs.startError {
      var metadata = Metadata()
      if recoverable {
        let typeURL = Array("type.googleapis.com/hashicorp.nomad.plugins.shared.structs.RecoverableError".utf8)
        let any: [UInt8] = [0x0a, UInt8(typeURL.count)] + typeURL + [0x12, 2, 0x08, 0x01]
        metadata.addBinary([0x08, 0x09, 0x1a, UInt8(any.count)] + any, forKey: "grpc-status-details-bin")
      }
      throw RPCError(code: recoverable ? .failedPrecondition : code, message: message, metadata: metadata)
    }
    let task = FakeTask(config: request.task)
    state.tasks.withLock { $0[request.task.id] = task }
    if let after = knobs.exitAfter {
      let code = knobs.exitCode
      Task {
        try? await Task.sleep(for: after)
        var result = ExitResultProto()
        result.exitCode = code
        task.exit.fulfil(result)
      }
    }
    var response = Hashicorp_Nomad_Plugins_Drivers_Proto_StartTaskResponse()
    response.handle.version = 1
    response.handle.config = request.task
    response.handle.state = .running
    response.handle.driverState = Data("state-\(request.task.id)".utf8)
    return response
  }

  func waitTask(request: Hashicorp_Nomad_Plugins_Drivers_Proto_WaitTaskRequest, context: ServerContext) async throws
    -> Hashicorp_Nomad_Plugins_Drivers_Proto_WaitTaskResponse
  {
    state.record(pid, "WaitTask", request.taskID)
    guard let task = state.task(request.taskID) else {
      throw RPCError(code: .notFound, message: "task not found for given id: \(request.taskID)")
    }
    guard let result = await task.exit.wait() else { throw CancellationError() }
    var response = Hashicorp_Nomad_Plugins_Drivers_Proto_WaitTaskResponse()
    response.result = result
    return response
  }

  func stopTask(request: Hashicorp_Nomad_Plugins_Drivers_Proto_StopTaskRequest, context: ServerContext) async throws
    -> Hashicorp_Nomad_Plugins_Drivers_Proto_StopTaskResponse
  {
    state.record(pid, "StopTask", "\(request.taskID) \(request.timeout.seconds)s \(request.signal)")
    var result = ExitResultProto()
    result.exitCode = state.knobs.withLock { $0.stopExitCode }
    state.task(request.taskID)?.exit.fulfil(result)
    return .init()
  }

  func destroyTask(request: Hashicorp_Nomad_Plugins_Drivers_Proto_DestroyTaskRequest, context: ServerContext)
    async throws -> Hashicorp_Nomad_Plugins_Drivers_Proto_DestroyTaskResponse
  {
    state.record(pid, "DestroyTask", "\(request.taskID) force=\(request.force)")
    state.tasks.withLock { _ = $0.removeValue(forKey: request.taskID) }
    return .init()
  }

  func inspectTask(request: Hashicorp_Nomad_Plugins_Drivers_Proto_InspectTaskRequest, context: ServerContext)
    async throws -> Hashicorp_Nomad_Plugins_Drivers_Proto_InspectTaskResponse
  {
    .init()
  }

  func taskStats(
    request: Hashicorp_Nomad_Plugins_Drivers_Proto_TaskStatsRequest,
    response: RPCWriter<Hashicorp_Nomad_Plugins_Drivers_Proto_TaskStatsResponse>, context: ServerContext
  ) async throws {
    var message = Hashicorp_Nomad_Plugins_Drivers_Proto_TaskStatsResponse()
    message.stats.id = request.taskID
    message.stats.aggResourceUsage.memory.rss = 1234
    while !Task.isCancelled {
      try await response.write(message)
      try await Task.sleep(for: .milliseconds(50))
    }
  }

  func taskEvents(
    request: Hashicorp_Nomad_Plugins_Drivers_Proto_TaskEventsRequest,
    response: RPCWriter<Hashicorp_Nomad_Plugins_Drivers_Proto_DriverTaskEvent>, context: ServerContext
  ) async throws {
    state.record(pid, "TaskEvents")
    for await event in state.events.subscribe(replayLatest: false) { try await response.write(event) }
  }

  func shutdown(request: Hashicorp_Nomad_Plugins_Drivers_Proto_ShutdownRequest, context: ServerContext) async throws
    -> Hashicorp_Nomad_Plugins_Drivers_Proto_ShutdownResponse
  {
    state.record(pid, "DriverShutdown")
    return .init()
  }

  func signalTask(request: Hashicorp_Nomad_Plugins_Drivers_Proto_SignalTaskRequest, context: ServerContext)
    async throws -> Hashicorp_Nomad_Plugins_Drivers_Proto_SignalTaskResponse
  {
    state.record(pid, "SignalTask", request.signal)
    return .init()
  }

  func execTask(request: Hashicorp_Nomad_Plugins_Drivers_Proto_ExecTaskRequest, context: ServerContext) async throws
    -> Hashicorp_Nomad_Plugins_Drivers_Proto_ExecTaskResponse
  {
    var response = Hashicorp_Nomad_Plugins_Drivers_Proto_ExecTaskResponse()
    response.stdout = Data(request.command.joined(separator: " ").utf8)
    return response
  }

  func execTaskStreaming(
    request: RPCAsyncSequence<Hashicorp_Nomad_Plugins_Drivers_Proto_ExecTaskStreamingRequest, any Error>,
    response: RPCWriter<Hashicorp_Nomad_Plugins_Drivers_Proto_ExecTaskStreamingResponse>, context: ServerContext
  ) async throws {
    // Echo stdin to stdout until stdin closes, then exit 0.
    for try await message in request {
      if message.hasStdin {
        var out = Hashicorp_Nomad_Plugins_Drivers_Proto_ExecTaskStreamingResponse()
        if !message.stdin.data.isEmpty {
          out.stdout.data = message.stdin.data
          try await response.write(out)
        }
        if message.stdin.close { break }
      }
    }
    var done = Hashicorp_Nomad_Plugins_Drivers_Proto_ExecTaskStreamingResponse()
    done.exited = true
    done.result.exitCode = 0
    try await response.write(done)
  }

  func createNetwork(request: Hashicorp_Nomad_Plugins_Drivers_Proto_CreateNetworkRequest, context: ServerContext)
    async throws -> Hashicorp_Nomad_Plugins_Drivers_Proto_CreateNetworkResponse
  {
    .init()
  }

  func destroyNetwork(request: Hashicorp_Nomad_Plugins_Drivers_Proto_DestroyNetworkRequest, context: ServerContext)
    async throws -> Hashicorp_Nomad_Plugins_Drivers_Proto_DestroyNetworkResponse
  {
    .init()
  }
}
