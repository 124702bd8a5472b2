import Foundation
import Logging
import NomadPlugin
import NomadProto

extension TaskRunner {
  // MARK: - Signal, exec, stats

  /// `nomad alloc signal`: emits `Signaling` and calls `SignalTask`.
  public func signal(_ signal: String, reason: String = "") async throws {
    guard let id = driverHandleID, let driver else { throw TaskNotRunningError() }
    appendEvent(.signaling(signal: signal, reason: reason))
    try await driver.signalTask(taskID: id, signal: signal)
  }

  /// `ExecTask` (script checks, templates).
  public func exec(_ command: [String], timeout: Duration = .seconds(30)) async throws -> ExecTaskResponseProto {
    guard let id = driverHandleID, let driver else { throw TaskNotRunningError() }
    return try await driver.execTask(taskID: id, command: command, timeout: timeout)
  }

  /// `ExecTaskStreaming` (`nomad alloc exec`).
  public func execStreaming(
    _ command: [String], tty: Bool, input: AsyncStream<ExecStreamInput>,
    output: @escaping @Sendable (ExecStreamOutput) async -> Void
  ) async throws -> ExitResultProto {
    guard let id = driverHandleID, let driver else { throw TaskNotRunningError() }
    return try await driver.execTaskStreaming(taskID: id, command: command, tty: tty, input: input, output: output)
  }

  /// `TaskStats` at `interval` (default: the client's collection interval).
  public func stats(interval: Duration? = nil) throws -> AsyncThrowingStream<TaskStatsProto, any Error> {
    guard let id = driverHandleID, let driver else { throw TaskNotRunningError() }
    return driver.taskStats(taskID: id, interval: interval ?? client.statsInterval)
  }
}

extension TaskRunner {
  /// Waits until the task state satisfies `predicate` (e.g. `{ $0.state == .running }`); nil
  /// after `timeout` or when the runner finishes without satisfying it.
  public nonisolated func waitForState(
    timeout: Duration = .seconds(60), _ predicate: @escaping @Sendable (TaskState) -> Bool
  ) async -> TaskState? {
    let current = await taskState
    if predicate(current) { return current }
    let stream = states.subscribe(replayLatest: true)
    let latch = Latch<TaskState?>()
    let watcher = Task {
      for await state in stream where predicate(state) {
        latch.fulfil(state)
        return
      }
      latch.fulfil(nil)
    }
    let result = await latch.wait(timeout: timeout) ?? nil
    watcher.cancel()
    if result == nil, predicate(await taskState) { return await taskState }
    return result
  }

  /// Waits for an event of `type` (e.g. `TaskEvent.Kind.started`); returns it, or nil after
  /// `timeout`.
  public nonisolated func waitForEvent(_ type: String, timeout: Duration = .seconds(60)) async -> TaskEvent? {
    let state = await waitForState(timeout: timeout) { state in state.events.contains { $0.type == type } }
    return state?.events.last { $0.type == type }
  }
}
