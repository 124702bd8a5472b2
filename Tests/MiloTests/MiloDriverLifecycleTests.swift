import Foundation
import Logging
import MiloSupervisor
import NomadPlugin
import Testing

@testable import Milo

/// MiloDriver's lifecycle logic (start, stop, signal, destroy, recover, wait) against
/// `FakeContainerRuntime`: no root, no crun, no JVM. The real runtime is covered by the
/// integration and end-to-end suites.
@Suite(.timeLimit(.minutes(1))) struct MiloDriverLifecycleTests {
  let runtime = FakeContainerRuntime()
  let allocDir = TempDir("milo-lifecycle")

  /// A driver on the fake runtime, on a host whose report says `isRoot`.
  func driver(isRoot: Bool = true) -> MiloDriver {
    let java = JavaRuntime(home: "/opt/jdk", version: "17.0.9", vendor: "Test", runtimeVersion: "17.0.9+9")
    let report = HostReport(
      runtime: OCIRuntime(name: "crun", path: "/usr/bin/crun", version: "crun version 1.8.1"), javas: [java],
      defaultJava: java, cgroup: .v2, problems: isRoot ? [] : [HostReport.notRootProblem],
      javaSearched: "/opt", isRoot: isRoot)
    return MiloDriver(
      logger: Logger(label: "test"), runtime: runtime, probe: { _ in report }, initBinary: nil,
      initBinaryProblem: nil)
  }

  /// A task that runs a main class (nothing to find on disk).
  func config(_ id: String = "alloc-1/app/0000aaaa") throws -> TaskConfig {
    var config = TaskConfig()
    config.id = id
    config.name = "app"
    config.allocID = "alloc-1"
    config.allocDir = allocDir.path
    config.msgpackDriverConfig = try MsgpackEncoder().encode(
      Cty.object(attributeNames: TaskOptions.schema.names, values: ["class": .string("Main")]))
    return config
  }

  /// Starts `config` on `driver`; returns its handle, the driver state it carries and the
  /// supervisor the fake runtime started for it.
  func start(_ config: TaskConfig, on driver: MiloDriver) async throws -> (
    handle: TaskHandle, state: DriverState, supervisor: FakeSupervisor
  ) {
    let (handle, _) = try await driver.startTask(config)
    let state = try DriverState.decode(Data(handle.driverState))
    return (handle, state, try #require(runtime.supervisor(state.supervisorPid)))
  }

  @Test func startPreparesAndStartsAndHandsBackTheDriverState() async throws {
    let driver = driver()
    let config = try config()
    let (handle, network) = try await driver.startTask(config)
    #expect(network == nil)
    let state = try DriverState.decode(Data(handle.driverState))
    #expect(state.taskID == config.id)
    #expect(state.containerID == LaunchPlanner.containerID(for: config.id))
    #expect(runtime.calls.prepared == [config.id])
    #expect(runtime.calls.started == [state.containerID])
    #expect(try await driver.inspectTask(id: config.id).state == .running)

    await #expect(throws: DriverError.self) { try await driver.startTask(config) }
    #expect(runtime.calls.started.count == 1, "a second start of the same id starts nothing")
  }

  @Test func stopForwardsTheSignalAndWaitReportsTheExit() async throws {
    let driver = driver()
    let config = try config()
    let (_, _, supervisor) = try await start(config, on: driver)

    try await driver.stopTask(id: config.id, timeout: .seconds(5), signal: "SIGTERM")
    #expect(supervisor.forwarded == [SIGTERM])
    let (result, error) = try await driver.waitTask(id: config.id)
    #expect(result.exitCode == 128 + SIGTERM && result.signal == SIGTERM && error == nil)
    #expect(try await driver.inspectTask(id: config.id).state == .exited)
  }

  @Test func stopKillsAnApplicationThatIgnoresTheSignal() async throws {
    runtime.applicationsExit(on: [SIGKILL])
    let driver = driver()
    let config = try config()
    let (_, _, supervisor) = try await start(config, on: driver)

    try await driver.stopTask(id: config.id, timeout: .milliseconds(50), signal: "")
    #expect(supervisor.forwarded == [SIGINT, SIGKILL], "the default signal, then SIGKILL after the timeout")
    #expect(try await driver.waitTask(id: config.id).result.signal == SIGKILL)
  }

  @Test func badSignalsAreRefusedWithAClearError() async throws {
    let driver = driver()
    let config = try config()
    _ = try await driver.startTask(config)
    let error = await #expect(throws: DriverError.self) {
      try await driver.signalTask(id: config.id, signal: "SIGNOPE")
    }
    #expect(error?.code == .invalidArgument)
    #expect(error?.message.contains("SIGNOPE") == true)
    let unknown = await #expect(throws: DriverError.self) { try await driver.signalTask(id: "nope", signal: "SIGHUP") }
    #expect(unknown?.code == .notFound)
  }

  @Test func destroyingARunningTaskNeedsForceAndRemovesEverything() async throws {
    let driver = driver()
    let config = try config()
    let (_, state, supervisor) = try await start(config, on: driver)

    let refused = await #expect(throws: DriverError.self) { try await driver.destroyTask(id: config.id, force: false) }
    #expect(refused?.code == .failedPrecondition)
    #expect(supervisor.isRunning && runtime.calls.removedStates.isEmpty)

    try await driver.destroyTask(id: config.id, force: true)
    #expect(supervisor.wasTerminated && !supervisor.wasKilled)
    #expect(runtime.calls.removedContainers == [state.containerID])
    #expect(runtime.calls.removedStates == [state.taskStateDir])
    let gone = await #expect(throws: DriverError.self) { try await driver.inspectTask(id: config.id) }
    #expect(gone?.code == .notFound)
  }

  @Test func destroyLeavesWhatALaterStartOfTheTaskOwns() async throws {
    let driver = driver()
    let config = try config()
    let (_, state, _) = try await start(config, on: driver)
    try await driver.stopTask(id: config.id, timeout: .seconds(5), signal: "SIGTERM")
    runtime.setOwner("alloc-1/app/0000bbbb", of: state.taskStateDir)

    try await driver.destroyTask(id: config.id, force: false)
    #expect(runtime.calls.removedContainers.isEmpty && runtime.calls.removedStates.isEmpty)
  }

  /// Another plugin instance's start of the task has made the state dir but not yet named
  /// itself in it: a destroy of the old start must not remove it.
  @Test func destroyLeavesAStateDirThatNamesNoTask() async throws {
    let driver = driver()
    let config = try config()
    let (_, state, _) = try await start(config, on: driver)
    try await driver.stopTask(id: config.id, timeout: .seconds(5), signal: "SIGTERM")
    runtime.setOwner(nil, of: state.taskStateDir)

    try await driver.destroyTask(id: config.id, force: false)
    #expect(runtime.calls.removedContainers.isEmpty && runtime.calls.removedStates.isEmpty)
  }

  @Test func aFailedStartRemovesWhatItMadeAndMayBeRetried() async throws {
    runtime.failStarts("crun: cannot start")
    let driver = driver()
    let config = try config()
    let error = await #expect(throws: DriverError.self) { try await driver.startTask(config) }
    #expect(error?.code == .internalError && error?.recoverable == true)
    #expect(error?.message.contains("crun: cannot start") == true)
    let containerID = LaunchPlanner.containerID(for: config.id)
    #expect(runtime.calls.removedStates.count == 1)
    #expect(runtime.calls.removedCgroups == [containerID])
    let unknown = await #expect(throws: DriverError.self) { try await driver.inspectTask(id: config.id) }
    #expect(unknown?.code == .notFound)
  }

  @Test func aHostProblemIsFailedPreconditionNotTheJobsFault() async throws {
    let driver = driver(isRoot: false)
    let error = await #expect(throws: DriverError.self) { try await driver.startTask(try config()) }
    #expect(error?.code == .failedPrecondition)
    #expect(error?.message == HostReport.notRootProblem)
    #expect(runtime.calls == FakeContainerRuntime.Calls(), "nothing is prepared or started")
  }

  @Test func recoverReattachesARunningSupervisor() async throws {
    let first = driver()
    let config = try config()
    let (handle, _, supervisor) = try await start(config, on: first)

    let restarted = driver()
    try await restarted.recoverTask(id: config.id, handle: handle)
    #expect(try await restarted.inspectTask(id: config.id).state == .running)
    try await restarted.stopTask(id: config.id, timeout: .seconds(5), signal: "SIGTERM")
    #expect(supervisor.forwarded == [SIGTERM])
    #expect(try await restarted.waitTask(id: config.id).result.exitCode == 128 + SIGTERM)
  }

  @Test func recoverReportsAnExitTheSupervisorRecorded() async throws {
    let first = driver()
    let config = try config()
    let (handle, _, supervisor) = try await start(config, on: first)
    supervisor.exit(ExitRecord(exitCode: 3))

    let restarted = driver()
    try await restarted.recoverTask(id: config.id, handle: handle)
    #expect(try await restarted.waitTask(id: config.id).result.exitCode == 3)
    #expect(runtime.calls.removedContainers.isEmpty)
  }

  @Test func recoverWithoutSupervisorOrExitRemovesTheContainerAndFails() async throws {
    let driver = driver()
    var state = DriverState(
      version: DriverState.currentVersion, taskID: "alloc-1/app/0000cccc", containerID: "milo-alloc-1_app",
      taskStateDir: "/run/milo/tasks/milo-alloc-1_app", supervisorPid: 99, supervisorStartTicks: 1,
      containerPid: 100, startedAt: 0, runtimePath: "/usr/bin/crun", runtimeRoot: "/run/milo/runtime",
      javaHome: "/opt/jdk", javaVersion: "17")
    var handle = TaskHandle()
    handle.version = Int32(DriverState.currentVersion)
    handle.driverState = [UInt8](try state.encoded())
    runtime.setOwner(state.taskID, of: state.taskStateDir)
    let error = await #expect(throws: DriverError.self) {
      try await driver.recoverTask(id: state.taskID, handle: handle)
    }
    #expect(error?.code == .failedPrecondition)
    #expect(error?.message.contains("recorded no exit") == true)
    #expect(runtime.calls.removedContainers == [state.containerID])

    state.version = 99
    handle.driverState = [UInt8](try state.encoded())
    let corrupt = await #expect(throws: DriverError.self) { try await driver.recoverTask(id: "x", handle: handle) }
    #expect(corrupt?.code == .invalidArgument)
  }

  @Test func aCancelledWaitEndsWithoutAnExit() async throws {
    let driver = driver()
    let config = try config()
    _ = try await driver.startTask(config)
    let waiter = Task { try await driver.waitTask(id: config.id) }
    waiter.cancel()
    await #expect(throws: CancellationError.self) { try await waiter.value }
    #expect(try await driver.inspectTask(id: config.id).state == .running)
  }
}
