import Foundation
import Logging
import MiloSupervisor
import MiloSys
import NomadPlugin
import Synchronization

@testable import Milo

/// A `ContainerRuntime` that records what MiloDriver asks of it and starts `FakeSupervisor`s
/// instead of containers: the one seam that lets the lifecycle logic run without root.
final class FakeContainerRuntime: ContainerRuntime {
  struct Calls: Equatable {
    var prepared: [String] = []
    var started: [String] = []
    var removedContainers: [String] = []
    var removedStates: [String] = []
    var removedCgroups: [String] = []
  }

  private struct State {
    var calls = Calls()
    var exitRecords: [String: ExitRecord] = [:]
    var owners: [String: String] = [:]
    var supervisors: [Int32: FakeSupervisor] = [:]
    var nextPid: Int32 = 40_000
    var startFailure: String?
    /// The signals a started application exits on (others it ignores).
    var exitsOn: Set<Int32> = [SIGTERM, SIGINT, SIGKILL]
    /// Where task cgroups are read from (none there unless a test makes them).
    var cgroupRoot = "/nonexistent"
  }

  private let state = Mutex(State())

  var calls: Calls { state.withLock { $0.calls } }

  /// Makes the next starts fail with `message` (nil: they succeed).
  func failStarts(_ message: String?) { state.withLock { $0.startFailure = message } }

  /// The signals applications started from now on exit on.
  func applicationsExit(on signals: Set<Int32>) { state.withLock { $0.exitsOn = signals } }

  /// Reads task cgroups (`stats`) under `root` instead of nowhere.
  func readCgroups(under root: String) { state.withLock { $0.cgroupRoot = root } }

  /// The supervisor started with `pid`.
  func supervisor(_ pid: Int32) -> FakeSupervisor? { state.withLock { $0.supervisors[pid] } }

  /// Records an exit for `containerID`, as a supervisor does before it exits.
  func record(_ record: ExitRecord, for containerID: String) {
    state.withLock { $0.exitRecords[containerID] = record }
  }

  /// Records `taskID` as the owner of a state directory, as a later start of the task does
  /// (nil: the directory names no task, as while a start is writing it).
  func setOwner(_ taskID: String?, of taskStateDir: String) {
    state.withLock { $0.owners[taskStateDir] = taskID }
  }

  /// The in-process `ContainerLocks` serialise a fake's callers; there is no other instance.
  func lockAcrossInstances(_ paths: TaskPaths) async throws(SystemError) -> FileLock? { nil }

  func prepare(_ plan: LaunchPlan, taskID: String) throws {
    state.withLock {
      $0.calls.prepared.append(taskID)
      $0.owners[plan.paths.stateDir] = taskID
    }
  }

  func start(_ plan: LaunchPlan) async throws -> (supervisor: any ContainerSupervisor, containerPid: Int32) {
    struct StartFailed: Error, CustomStringConvertible { var description: String }
    let containerID = plan.containerID
    let started: Result<FakeSupervisor, StartFailed> = state.withLock { state in
      if let failure = state.startFailure { return .failure(StartFailed(description: failure)) }
      state.calls.started.append(containerID)
      let pid = state.nextPid
      state.nextPid += 2
      let supervisor = FakeSupervisor(pid: pid, exitsOn: state.exitsOn) { [weak self] record in
        self?.record(record, for: containerID)
      }
      state.supervisors[pid] = supervisor
      return .success(supervisor)
    }
    let supervisor = try started.get()
    return (supervisor, supervisor.pid + 1)
  }

  func attach(_ driverState: DriverState) -> (any ContainerSupervisor)? {
    state.withLock { state in
      state.supervisors[driverState.supervisorPid].flatMap { $0.isRunning ? $0 : nil }
    }
  }

  func hasExitRecord(_ driverState: DriverState) -> Bool { exitRecord(driverState) != nil }

  func exitRecord(_ driverState: DriverState) -> ExitRecord? {
    state.withLock { $0.exitRecords[driverState.containerID] }
  }

  func owner(_ driverState: DriverState) -> String? {
    state.withLock { $0.owners[driverState.taskStateDir] }
  }

  func removeContainer(_ driverState: DriverState) {
    state.withLock { $0.calls.removedContainers.append(driverState.containerID) }
  }

  func removeState(taskStateDir: String) {
    state.withLock {
      $0.calls.removedStates.append(taskStateDir)
      $0.owners[taskStateDir] = nil
    }
  }

  func removeTaskCgroups(containerID: String) {
    state.withLock { $0.calls.removedCgroups.append(containerID) }
  }

  func stats(_ driverState: DriverState, cgroup: CgroupMode) -> CgroupStats {
    CgroupStats(mode: cgroup, path: driverState.paths.cgroup, root: state.withLock { $0.cgroupRoot })
  }

  func exec(
    _ driverState: DriverState, user: String, command: [String], tty: Bool, stdin: Bool
  ) async throws -> ExecProcess {
    struct NoExec: Error {}
    throw NoExec()
  }

  func findLeftover(containerID: String, stateDir: String) -> Leftover {
    let paths = TaskPaths(stateDir: stateDir, containerID: containerID)
    return Leftover(
      containerID: containerID, taskStateDir: paths.stateDir, runtimeRoot: paths.runtimeRoot, owner: nil,
      supervisors: [], containerExists: false, containerPid: nil, stateDirExists: false)
  }

  func clean(_ leftover: Leftover, runtimePath: String, signal: Int32?, grace: Duration) async {}
}

/// A supervisor whose application exits on the signals it is told to, recording the exit
/// through `onExit` first, as the real supervisor writes its exit record before it exits.
final class FakeSupervisor: ContainerSupervisor {
  private struct State {
    var running = true
    var exiting = false
    var forwarded: [Int32] = []
    var terminated = false
    var killed = false
    var waiters: [CheckedContinuation<Void, Never>] = []
  }

  let pid: Int32
  let startTicks: UInt64 = 1
  private let exitsOn: Set<Int32>
  private let onExit: @Sendable (ExitRecord) -> Void
  private let state = Mutex(State())

  init(pid: Int32, exitsOn: Set<Int32>, onExit: @escaping @Sendable (ExitRecord) -> Void) {
    self.pid = pid
    self.exitsOn = exitsOn
    self.onExit = onExit
  }

  var isRunning: Bool { state.withLock { $0.running } }
  var forwarded: [Int32] { state.withLock { $0.forwarded } }
  var wasTerminated: Bool { state.withLock { $0.terminated } }
  var wasKilled: Bool { state.withLock { $0.killed } }

  func waitForExit() async {
    await withCheckedContinuation { continuation in
      let running = state.withLock { state in
        if state.running { state.waiters.append(continuation) }
        return state.running
      }
      if !running { continuation.resume() }
    }
  }

  @discardableResult func forward(signal: Int32) -> Bool {
    guard isRunning else { return false }
    state.withLock { $0.forwarded.append(signal) }
    if exitsOn.contains(signal) { exit(ExitRecord(exitCode: 128 + Int(signal), signal: Int(signal))) }
    return true
  }

  func terminate() {
    state.withLock { $0.terminated = true }
    exit(ExitRecord(exitCode: 137, signal: Int(SIGKILL)))
  }

  func kill() {
    state.withLock { $0.killed = true }
  }

  func reap() {}
  func release() {}

  /// The application exits: the record is written, then waiters wake.
  func exit(_ record: ExitRecord) {
    let first = state.withLock { state in
      defer { state.exiting = true }
      return !state.exiting
    }
    guard first else { return }
    onExit(record)
    let waiters = state.withLock { state in
      state.running = false
      defer { state.waiters = [] }
      return state.waiters
    }
    waiters.forEach { $0.resume() }
  }
}
