import GRPCCore
import NomadProto
import Synchronization
import Testing

@testable import NomadPlugin

/// grpc-swift reports a client that cancels or disconnects only through the RPC's cancellation
/// handle, not by cancelling the handler's task. `DriverService` turns that into task
/// cancellation, so a driver's endless streams (fingerprint, task events, stats) end when Nomad
/// drops them instead of living until the plugin exits.
@Suite struct DriverServiceCancellationTests {
  /// A driver whose streams send one message and then wait until their task is cancelled.
  final class WaitingDriver: NomadDriver {
    let ended = Mutex<[String]>([])
    var identity: PluginIdentity { PluginIdentity(name: "waiting", version: "0.0.1") }
    var configSchema: HCLSchema { HCLSchema([]) }
    var taskConfigSchema: HCLSchema { HCLSchema([]) }
    var capabilities: DriverCapabilities { DriverCapabilities() }

    func waitForCancellation(_ name: String) async {
      while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(10)) }
      ended.withLock { $0.append(name) }
    }

    func setConfig(msgpack: [UInt8], agentConfig: AgentConfig?) async throws {}
    func fingerprint(_ send: @Sendable (Fingerprint) async throws -> Void) async throws {
      try await send(Fingerprint())
      await waitForCancellation("fingerprint")
    }
    func taskEvents(_ send: @Sendable (DriverTaskEvent) async throws -> Void) async throws {
      try await send(DriverTaskEvent())
      await waitForCancellation("taskEvents")
    }
    func taskStats(
      id: String, interval: Duration, _ send: @Sendable (TaskStats) async throws -> Void
    ) async throws {
      try await send(TaskStats())
      await waitForCancellation("taskStats")
    }
    func startTask(_ config: TaskConfig) async throws -> (TaskHandle, NetworkOverride?) {
      throw DriverError(.unimplemented, "no")
    }
    func recoverTask(id: String, handle: TaskHandle) async throws {}
    func waitTask(id: String) async throws -> (result: ExitResult, error: String?) { (ExitResult(), nil) }
    func stopTask(id: String, timeout: Duration, signal: String) async throws {}
    func destroyTask(id: String, force: Bool) async throws {}
    func inspectTask(id: String) async throws -> TaskStatus { TaskStatus() }
    func signalTask(id: String, signal: String) async throws {}
    func shutdown() async {}
  }

  /// Collects what a handler writes.
  struct Collector<Element: Sendable>: RPCWriterProtocol {
    let box: Box
    final class Box: Sendable { let count = Atomic<Int>(0) }
    init() { box = Box() }
    func write(_ element: Element) async throws { box.count.add(1, ordering: .relaxed) }
    func write(contentsOf elements: some Sequence<Element>) async throws {
      for element in elements { try await write(element) }
    }
  }

  static func context(_ handle: ServerContext.RPCCancellationHandle) -> ServerContext {
    ServerContext(
      descriptor: MethodDescriptor(fullyQualifiedService: "test", method: "stream"), remotePeer: "peer",
      localPeer: "local", cancellation: handle)
  }

  /// Starts `call` with a cancellation handle, waits for its first message, cancels the RPC the
  /// way grpc-swift does when the client goes away, and checks that the call returns.
  static func expectEndsWhenTheRPCIsCancelled(
    _ name: String, _ driver: WaitingDriver,
    _ call: @escaping @Sendable (ServerContext) async throws -> Int
  ) async throws {
    let returned = try await withServerContextRPCCancellationHandle { handle in
      try await withThrowingTaskGroup(of: Int.self) { group in
        group.addTask { try await call(Self.context(handle)) }
        try await Task.sleep(for: .milliseconds(100))
        handle.cancel()
        // A call still running 2 s later ignored the cancellation (-1); then end it anyway.
        group.addTask {
          try await Task.sleep(for: .seconds(2))
          return -1
        }
        let first = try await group.next()
        group.cancelAll()
        return first
      }
    }
    #expect(returned == 1, "\(name) returned after the RPC was cancelled, having written one message")
  }

  @Test func droppedStreamsEndTheirDriverLoops() async throws {
    let driver = WaitingDriver()
    let service = DriverService(driver: driver)
    try await Self.expectEndsWhenTheRPCIsCancelled("fingerprint", driver) { context in
      let writer = Collector<Hashicorp_Nomad_Plugins_Drivers_Proto_FingerprintResponse>()
      try? await service.fingerprint(request: .init(), response: RPCWriter(wrapping: writer), context: context)
      return writer.box.count.load(ordering: .relaxed)
    }
    try await Self.expectEndsWhenTheRPCIsCancelled("taskEvents", driver) { context in
      let writer = Collector<Hashicorp_Nomad_Plugins_Drivers_Proto_DriverTaskEvent>()
      try? await service.taskEvents(request: .init(), response: RPCWriter(wrapping: writer), context: context)
      return writer.box.count.load(ordering: .relaxed)
    }
    try await Self.expectEndsWhenTheRPCIsCancelled("taskStats", driver) { context in
      let writer = Collector<Hashicorp_Nomad_Plugins_Drivers_Proto_TaskStatsResponse>()
      try? await service.taskStats(request: .init(), response: RPCWriter(wrapping: writer), context: context)
      return writer.box.count.load(ordering: .relaxed)
    }
  }
}
