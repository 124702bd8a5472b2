import Foundation
import GRPCCore
import NomadProto
import Testing

@testable import NomadPlugin

/// Drives `SleepDriver` through `DriverService` as Nomad would: a second driver needs no gRPC.
@Suite struct SleepDriverTests {
  let service = DriverService(driver: SleepDriver())

  func start(_ id: String, seconds: String) async throws -> Hashicorp_Nomad_Plugins_Drivers_Proto_StartTaskResponse {
    var request = Hashicorp_Nomad_Plugins_Drivers_Proto_StartTaskRequest()
    request.task.id = id
    request.task.name = "sleeper"
    request.task.env = ["SLEEP_SECONDS": seconds]
    request.task.namespace = "prod"
    return try await service.startTask(request: request, context: ServiceCall.context())
  }

  func wait(_ id: String) async throws -> Hashicorp_Nomad_Plugins_Drivers_Proto_ExitResult {
    var request = Hashicorp_Nomad_Plugins_Drivers_Proto_WaitTaskRequest()
    request.taskID = id
    return try await service.waitTask(request: request, context: ServiceCall.context()).result
  }

  @Test func aTaskRunsToItsEnd() async throws {
    let response = try await start("a/sleeper/1", seconds: "0.05")
    #expect(response.handle.state == .running)
    #expect(response.handle.version == 1)
    // Fields the driver never looked at reach Nomad as it sent them.
    #expect(response.handle.config.namespace == "prod")
    #expect(response.handle.config.id == "a/sleeper/1")
    #expect(try await wait("a/sleeper/1").exitCode == 0)
  }

  @Test func stopEndsAWaitAndInspectShowsTheExit() async throws {
    _ = try await start("a/sleeper/2", seconds: "60")
    async let result = wait("a/sleeper/2")
    var inspect = Hashicorp_Nomad_Plugins_Drivers_Proto_InspectTaskRequest()
    inspect.taskID = "a/sleeper/2"
    #expect(try await service.inspectTask(request: inspect, context: ServiceCall.context()).task.state == .running)
    var stop = Hashicorp_Nomad_Plugins_Drivers_Proto_StopTaskRequest()
    stop.taskID = "a/sleeper/2"
    stop.signal = "SIGINT"
    _ = try await service.stopTask(request: stop, context: ServiceCall.context())
    #expect(try await result.signal == 2)
    let status = try await service.inspectTask(request: inspect, context: ServiceCall.context()).task
    #expect(status.state == .exited)
    #expect(status.result.exitCode == 130)
    #expect(!status.hasCompletedAt)
  }

  @Test func driverErrorsReachNomadWithTheirCodes() async throws {
    _ = try await start("a/sleeper/3", seconds: "60")
    var destroy = Hashicorp_Nomad_Plugins_Drivers_Proto_DestroyTaskRequest()
    destroy.taskID = "a/sleeper/3"
    await #expect(throws: RPCError.self) {
      do {
        _ = try await service.destroyTask(request: destroy, context: ServiceCall.context())
      } catch let error as RPCError {
        #expect(error.code == .failedPrecondition)
        #expect(error.message == "task a/sleeper/3 is running; stop it first")
        throw error
      }
    }
    destroy.force = true
    _ = try await service.destroyTask(request: destroy, context: ServiceCall.context())
    do {
      _ = try await wait("a/sleeper/3")
      Issue.record("a destroyed task is gone")
    } catch let error as RPCError {
      #expect(error.code == .notFound)
      #expect(error.message == "task not found for given id: a/sleeper/3")
    }
    do {
      _ = try await start("a/sleeper/4", seconds: "soon")
      Issue.record("a bad input fails")
    } catch let error as RPCError {
      #expect(error.code == .invalidArgument)
    }
  }

  @Test func anExecSessionEchoesStdinAndReportsTheExit() async throws {
    _ = try await start("a/sleeper/5", seconds: "60")
    let writer = Recorder<ExecResponse>()
    try await service.execTaskStreaming(
      request: ServiceCall.requests([
        .setup(task: "a/sleeper/5", command: ["cat"]), .stdin("hello "), .stdin("world", close: true),
      ]),
      response: RPCWriter(wrapping: writer), context: ServiceCall.context())
    #expect(
      writer.elements.map(Frame.init) == [.stdout("hello "), .stdout("world"), .stdoutClose, .stderrClose, .exit(0)])

    let exit = Recorder<ExecResponse>()
    try await service.execTaskStreaming(
      request: ServiceCall.requests([.setup(task: "a/sleeper/5", command: ["exit", "3"])]),
      response: RPCWriter(wrapping: exit), context: ServiceCall.context())
    #expect(exit.elements.map(Frame.init) == [.stdoutClose, .stderrClose, .exit(3)])
  }
}
