import Foundation
import MiloSupervisor
import MiloSys
import NomadPlugin

/// One task milo runs: its handle state, its supervisor, and its exit once known.
public actor MiloTask {
  public nonisolated let id: String
  public nonisolated let config: TaskConfig
  public nonisolated let state: DriverState
  private let supervisor: (any ContainerSupervisor)?
  /// Where the supervisor's exit record is read from.
  private let runtime: any ContainerRuntime
  private var exit: ExitRecord?
  private var exitError: String?
  /// Callers waiting for the exit, by a number that lets a cancelled wait leave.
  private var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
  private var nextWaiter = 0
  private var onExit: (@Sendable (ExitRecord) -> Void)?

  init(
    config: TaskConfig, state: DriverState, supervisor: (any ContainerSupervisor)?, runtime: any ContainerRuntime
  ) {
    self.id = config.id
    self.config = config
    self.state = state
    self.supervisor = supervisor
    self.runtime = runtime
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
    if let record = runtime.exitRecord(state) {
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
    let pending = waiters.values
    waiters = [:]
    pending.forEach { $0.resume() }
  }

  /// Suspends until the exit is known or the calling task is cancelled.
  private func untilExit() async {
    guard exit == nil else { return }
    let number = nextWaiter
    nextWaiter += 1
    await withTaskCancellationHandler {
      await withCheckedContinuation { continuation in
        if exit != nil || Task.isCancelled {
          continuation.resume()
        } else {
          waiters[number] = continuation
        }
      }
    } onCancel: {
      Task { await self.leave(number) }
    }
  }

  private func leave(_ number: Int) {
    waiters.removeValue(forKey: number)?.resume()
  }

  /// Whether the task is still running.
  public var isRunning: Bool { exit == nil }

  /// The exit, once known.
  public var exitRecord: ExitRecord? { exit }

  /// Waits for the exit; many callers may wait at once. Throws `CancellationError` when the
  /// caller is cancelled first.
  public func wait() async throws -> (result: ExitResult, error: String?) {
    while exit == nil {
      try Task.checkCancellation()
      await untilExit()
    }
    return (Self.result(exit), exitError)
  }

  /// Waits at most `timeout` for the exit; returns whether it happened.
  public func wait(timeout: Duration) async -> Bool {
    await wait(until: .now + timeout)
  }

  /// Waits for the exit until `deadline` (or until the caller is cancelled), whichever comes
  /// first, without polling: the exit wakes it; returns whether the task exited.
  public func wait(until deadline: ContinuousClock.Instant) async -> Bool {
    if exit != nil { return true }
    await withTaskGroup(of: Void.self) { group in
      group.addTask { await self.untilExit() }
      group.addTask { try? await Task.sleep(until: deadline, clock: .continuous) }
      await group.next()
      group.cancelAll()
    }
    return exit != nil
  }

  /// Kills the supervisor itself, when it did not finish after `terminate()`.
  public func killSupervisor() {
    guard exit == nil else { return }
    supervisor?.kill()
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
