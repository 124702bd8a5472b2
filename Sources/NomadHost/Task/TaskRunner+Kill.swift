import Foundation
import Logging
import NomadPlugin
import NomadProto

extension TaskRunner {
  // MARK: - Kill

  /// Stops the task like `nomad job stop` (the alloc runner's `killTasks` + `TaskRunner.Kill`):
  /// emits `Killing` (unless the task already finished), cancels the run loop, and waits for the
  /// runner to finish. Returns the final state.
  @discardableResult
  public func kill() async -> TaskState {
    await kill(event: state.finishedAt == nil ? .killing(timeout: killTimeout) : nil)
  }

  /// `TaskRunner.Kill(ctx, event)`: emits `event` (if any), cancels the run loop and waits.
  @discardableResult
  public func kill(event: TaskEvent?) async -> TaskState {
    if let event, !killRequested.isFulfilled { appendEvent(event) }
    killRequested.fulfil(())
    if !runStarted {
      runStarted = true
      return await finish()
    }
    return await waitUntilDone()
  }

  /// `min(kill_timeout, max_kill_timeout)`.
  public nonisolated var killTimeout: Duration { min(context.task.killTimeout, client.maxKillTimeout) }

  /// `handleKill`: StopTask with retries, then the exit result.
  func handleKill(_ waiter: Task<TaskExit, Never>?) async -> TaskExit? {
    restartTracker.setKilled()
    guard let id = driverHandleID, let driver else { return nil }
    let limit = 5
    var lastError: (any Error)?
    for attempt in 0..<limit {
      do {
        try await driver.stopTask(taskID: id, timeout: killTimeout, signal: context.task.killSignal)
        lastError = nil
        break
      } catch {
        lastError = error
        let backoff = min(Duration.seconds(5) * (1 << (2 * attempt)), .seconds(120))
        logger.error("failed to kill task", metadata: ["backoff": "\(backoff)", "error": "\(error)"])
        if let waiter, await Self.value(of: waiter, within: backoff) != nil { return await waiter.value }
        if waiter == nil { try? await Task.sleep(for: backoff) }
      }
    }
    if let lastError {
      logger.error("failed to kill task. Resources may have been leaked", metadata: ["error": "\(lastError)"])
      killError = "\(lastError)"
    }
    if let waiter { return await waiter.value }
    return await waitTask(driver: driver, taskID: id)
  }

  /// The task's result if it finishes within `timeout` (the task keeps running otherwise).
  static func value(of task: Task<TaskExit, Never>, within timeout: Duration) async -> TaskExit? {
    let outcome = Latch<TaskExit>()
    let watcher = Task { outcome.fulfil(await task.value) }
    _ = watcher
    return await outcome.wait(timeout: timeout)
  }

  // MARK: - Restart decision

  func shouldRestart() -> (Bool, Duration) {
    switch restartTracker.decide() {
    case .killed:
      appendEvent(.killed(error: killError))
      return (false, .zero)
    case .terminated:
      return (false, .zero)
    case .notRestarting:
      updateState(.dead, event: .notRestarting(reason: restartTracker.reason))
      return (false, .zero)
    case .restarting(let delay):
      updateState(.pending, event: .restarting(delay: delay, reason: restartTracker.reason))
      return (true, delay)
    }
  }
}
