import Foundation
import MiloSupervisor
import NomadPlugin

/// One task milo runs: its handle state, its supervisor, and its exit once known.
public actor MiloTask {
  public nonisolated let id: String
  public nonisolated let config: TaskConfig
  public nonisolated let state: DriverState
  private let supervisor: (any ContainerSupervisor)?
  private var exit: ExitRecord?
  private var exitError: String?
  private var waiters: [CheckedContinuation<Void, Never>] = []
  private var onExit: (@Sendable (ExitRecord) -> Void)?

  init(config: TaskConfig, state: DriverState, supervisor: (any ContainerSupervisor)?) {
    self.id = config.id
    self.config = config
    self.state = state
    self.supervisor = supervisor
  }

  /// Starts watching the supervisor; `onExit` runs once with the recorded exit.
  func startMonitoring(onExit: @escaping @Sendable (ExitRecord) -> Void) {
    self.onExit = onExit
    guard let supervisor else {
      finish()
      return
    }
    Task.detached { [self] in
      await supervisor.waitForExit()
      supervisor.reap()
      await self.finish()
    }
  }

  private func finish() {
    guard exit == nil else { return }
    if let text = Posix.readText(state.paths.exitRecord), let record = ExitRecord(text: text) {
      exit = record
      if let startError = record.startError { exitError = startError }
    } else {
      exit = ExitRecord(exitCode: -1, startedAt: state.startedAt, finishedAt: Posix.wallNanos())
      exitError =
        "the milo supervisor for this task exited without recording the task's exit"
        + " (see \(state.paths.supervisorLog))"
    }
    supervisor?.release()
    if let exit { onExit?(exit) }
    let pending = waiters
    waiters = []
    pending.forEach { $0.resume() }
  }

  /// Whether the task is still running.
  public var isRunning: Bool { exit == nil }

  /// The exit, once known.
  public var exitRecord: ExitRecord? { exit }

  /// Waits for the exit; many callers may wait at once.
  public func wait() async -> (result: ExitResult, error: String?) {
    if exit == nil {
      await withCheckedContinuation { waiters.append($0) }
    }
    return (Self.result(exit), exitError)
  }

  /// Waits at most `timeout` for the exit; returns whether it happened.
  public func wait(timeout: Duration) async -> Bool {
    if exit != nil { return true }
    let deadline = ContinuousClock.now + timeout
    while exit == nil && ContinuousClock.now < deadline {
      try? await Task.sleep(for: .milliseconds(10))
    }
    return exit != nil
  }

  /// Delivers a signal to the application through its supervisor.
  public func signal(_ number: Int32) -> Bool {
    guard exit == nil, let supervisor else { return false }
    return supervisor.forward(signal: number)
  }

  /// Asks the supervisor to kill everything and finish.
  public func terminate() {
    guard exit == nil else { return }
    supervisor?.terminate()
  }

  static func result(_ record: ExitRecord?) -> ExitResult {
    var result = ExitResult()
    guard let record else { return result }
    result.exitCode = Int32(clamping: record.exitCode)
    result.signal = Int32(clamping: record.signal)
    result.oomKilled = record.oomKilled
    return result
  }

  /// The status Nomad shows for InspectTask.
  public func status() -> TaskStatus {
    var status = TaskStatus()
    status.id = id
    status.name = config.name
    status.state = exit == nil ? .running : .exited
    status.startedAt = Timestamp(nanoseconds: state.startedAt)
    if let exit {
      status.completedAt = Timestamp(nanoseconds: exit.finishedAt)
      status.result = Self.result(exit)
    }
    return status
  }
}
