import Foundation
import Logging
import NomadPlugin
import NomadProto

/// Runs one task the way Nomad's task runner does (`client/allocrunner/taskrunner/task_runner.go`):
/// prestart hooks (task dir, logmon, artifacts), `StartTask` with a `TaskConfig` built like
/// `buildTaskConfig`, the handle persisted, `WaitTask`, kill via `StopTask`, `DestroyTask(force)`
/// after every exit, the restart policy, recovery with `RecoverTask` after a plugin crash, and
/// Nomad's task events and states.
public actor TaskRunner {
  /// Who and where the task is.
  public nonisolated let context: TaskEnvironment.Context
  public nonisolated let client: ClientConfig
  public nonisolated let driverManager: DriverManager
  /// The alloc's network isolation (bridge mode), passed in `TaskConfig`.
  public nonisolated let networkIsolation: NetworkIsolationSpecProto?
  /// Every task event as it is appended.
  public nonisolated let events = Broadcaster<TaskEvent>()
  /// The task state after every change.
  public nonisolated let states = Broadcaster<TaskState>()
  /// The task's logmon (nil when logs are disabled).
  public nonisolated let logMon: LogMon?

  let store: TaskStateStore
  var state = TaskState()
  var restartTracker: RestartTracker
  var driver: PluginClient?
  var taskSchema: HCLSpecProto?
  var capabilities: DriverCapabilitiesProto?
  /// `localState.TaskHandle`: the handle as returned by the plugin.
  var handle: TaskHandleProto?
  /// The ID of the current driver handle (nil when there is none).
  var driverHandleID: String?
  var taskDirDone = false
  var artifactsDone = false
  var runStarted = false
  var restoreOnRun = false
  var restoredComplete = false
  let killRequested = Latch<Void>()
  let finished = Latch<TaskState>()
  var killError: String?
  var driverEventsTask: Task<Void, Never>?
  /// Set once the task runner finished (Nomad's `localState.RunComplete`): later writes of the
  /// task state (a driver event after the task died) keep it.
  var runCompleted = false
  /// Set when the alloc is destroyed: nothing is written any more.
  var destroyed = false

  var logger: Logger {
    var logger = client.logger
    logger[metadataKey: "task"] = "\(context.task.name)"
    logger[metadataKey: "alloc_id"] = "\(context.allocID)"
    return logger
  }

  /// A runner for a new task (appends the `Received` event), or, with `restoring`, a runner
  /// restored from a persisted state in a new host process: `run()` then calls `RecoverTask`
  /// with the stored handle instead of starting the task when it was running.
  public init(
    context: TaskEnvironment.Context, client: ClientConfig, driverManager: DriverManager,
    networkIsolation: NetworkIsolationSpecProto? = nil, restoring persisted: PersistedTask? = nil
  ) {
    self.context = context
    self.client = client
    self.driverManager = driverManager
    self.networkIsolation = networkIsolation
    self.store = TaskStateStore(allocDir: context.allocDir)
    let policy = context.task.restartPolicy ?? context.group.restartPolicy ?? .defaults(for: context.job.type)
    self.restartTracker = RestartTracker(policy: policy, jobType: context.job.type)
    if context.task.logs.disabled {
      self.logMon = nil
    } else {
      self.logMon = LogMon(
        config: LogMonConfig(
          logDir: context.allocDir.logDir, task: context.task.name, maxFiles: context.task.logs.maxFiles,
          maxFileSizeMB: context.task.logs.maxFileSizeMB))
    }
    if let persisted {
      self.state = persisted.state
      self.handle = persisted.taskHandle
      self.taskDirDone = true
      self.artifactsDone = true
      self.restoreOnRun = true
      self.restoredComplete = persisted.state.state == .dead
    } else {
      self.state.events.append(.received())
    }
  }

  // MARK: - Accessors

  /// The current task state.
  public var taskState: TaskState { state }
  /// The handle returned by the last `StartTask` (what is persisted).
  public var taskHandle: TaskHandleProto? { handle }
  /// The ID of the running task (nil when none is running).
  public var currentTaskID: String? { driverHandleID }
  /// The driver instance this runner uses.
  public var driverClient: PluginClient? { driver }
  /// The driver's capabilities.
  public var driverCapabilities: DriverCapabilitiesProto? { capabilities }

  /// Waits until the runner has finished (the task is dead and stop hooks ran).
  public nonisolated func waitUntilDone() async -> TaskState {
    await finished.wait() ?? TaskState()
  }

  // MARK: - Run loop

  /// Runs the task until it is dead; returns the final state.
  @discardableResult
  public func run() async -> TaskState {
    guard !runStarted else { return await waitUntilDone() }
    runStarted = true
    if restoredComplete {
      // A dead task restored from disk: nothing to run (Nomad only re-runs stop hooks).
      finished.fulfil(state)
      states.finish()
      events.finish()
      return state
    }
    if !restoreOnRun {
      for event in state.events { events.publish(event) }
    }
    startDriverEvents()
    persist()

    do {
      try await initDriver()
    } catch {
      appendEvent(.setupFailure("failed to initialize driver: \(error)"))
      return await finish()
    }

    var restoredRunning = false
    if restoreOnRun {
      restoredRunning = await restore()
    }

    main: while !killRequested.isFulfilled {
      let attempt = restoredRunning ? .started : await startAttempt()
      restoredRunning = false
      if case .failedToStart = attempt {
        // Start error already recorded on the tracker.
      } else if case .aborted = attempt {
        break main
      } else {
        var result: TaskExit?
        waitLoop: while true {
          guard let id = driverHandleID, let driver else { break waitLoop }
          let waiter = Task { await self.waitTask(driver: driver, taskID: id) }
          let killed = await raceKill(waiter)
          if killed {
            result = await handleKill(waiter)
          } else {
            result = await waiter.value
          }
          if let current = result, await handleTaskExitResult(current) { continue waitLoop }
          break waitLoop
        }
        await clearDriverHandle()
        restartTracker.setExitResult(successful: result?.successful ?? false)
      }
      // RESTART
      let (restart, delay) = shouldRestart()
      if !restart { break main }
      if await killRequested.wait(timeout: delay) != nil { break main }
    }

    // Killed before the loop waited on a restored task: the same events as a kill in the loop.
    if driverHandleID != nil {
      if let result = await handleKill(nil) { emitExitResultEvent(result) }
      await clearDriverHandle()
      _ = shouldRestart()
    }
    return await finish()
  }

  enum Attempt {
    case started
    case failedToStart
    case aborted
  }

  func startAttempt() async -> Attempt {
    do {
      try await prestart()
      if killRequested.isFulfilled { return .aborted }
      try await runDriver()
    } catch {
      restartTracker.setStartError(recoverable: (error as? TaskStartError)?.recoverable ?? false)
      return .failedToStart
    }
    return .started
  }

  /// Waits for the task's exit or a kill request, whichever comes first (true = kill). The
  /// wait itself keeps running.
  func raceKill(_ waiter: Task<TaskExit, Never>) async -> Bool {
    let outcome = Latch<Bool>()
    let kill = killRequested
    let exited = Task {
      _ = await waiter.value
      outcome.fulfil(false)
    }
    let killed = Task {
      if await kill.wait() != nil { outcome.fulfil(true) }
    }
    let result = await outcome.wait() ?? false
    killed.cancel()
    _ = exited
    return result
  }

  func finish() async -> TaskState {
    updateState(.dead, event: nil)
    // Driver events keep arriving after the task is dead (an OOM report races WaitTask's
    // answer): Nomad hands them to the task runner until the alloc is garbage-collected.
    // Stop hooks: logmon.
    await logMon?.stop()
    runCompleted = true
    persist()
    finished.fulfil(state)
    states.finish()
    events.finish()
    return state
  }

  // MARK: - Driver

  /// `initDriver`: dispense the plugin, then `TaskConfigSchema` and `Capabilities`.
  func initDriver() async throws {
    let instance = try await driverManager.dispense()
    driver = instance
    taskSchema = try await instance.taskConfigSchema()
    capabilities = try await instance.capabilities()
  }

  var isolation: FSIsolation {
    capabilities.map { FSIsolation($0.fsIsolation) } ?? .none
  }

  var effectiveContext: TaskEnvironment.Context {
    var context = self.context
    context.isolation = isolation
    return context
  }

  func waitTask(driver: PluginClient, taskID: String) async -> TaskExit {
    do {
      return TaskExit(try await driver.waitTask(taskID: taskID))
    } catch let error as PluginCallError {
      if error == .pluginShutdown { return TaskExit(exitCode: 0, error: error.description, pluginShutdown: true) }
      return TaskExit(exitCode: 0, error: error.description)
    } catch {
      return TaskExit(exitCode: 0, error: "\(error)")
    }
  }

  /// `handleTaskExitResult`: true when the wait should be retried (the plugin died and the task
  /// was recovered on a new instance).
  func handleTaskExitResult(_ result: TaskExit) async -> Bool {
    if result.pluginShutdown {
      logger.debug("driver plugin has shutdown; attempting to recover task")
      do {
        try await initDriver()
      } catch {
        logger.error("failed to initialize driver after it exited unexpectedly", metadata: ["error": "\(error)"])
        return false
      }
      guard await restoreHandle() else {
        logger.error("failed to restore handle on driver after it exited unexpectedly")
        return false
      }
      logger.debug("task successfully recovered on driver")
      return true
    }
    emitExitResultEvent(result)
    return false
  }

  func emitExitResultEvent(_ exit: TaskExit) {
    appendEvent(
      .terminated(
        exitCode: Int(exit.result.exitCode), signal: Int(exit.result.signal), oomKilled: exit.result.oomKilled,
        message: exit.error))
  }

  /// `restoreHandle`: `RecoverTask` with the stored handle.
  func restoreHandle() async -> Bool {
    guard let handle, handle.hasConfig, let driver else { return true }
    let id = handle.config.id
    do {
      try await driver.recoverTask(taskID: id, handle: handle)
    } catch {
      if state.state != .running { return true }
      logger.error("error recovering task; cleaning up", metadata: ["error": "\(error)", "task_id": "\(id)"])
      try? await driver.destroyTask(taskID: id, force: true)
      driverHandleID = nil
      return false
    }
    driverHandleID = id
    return true
  }

  /// Agent-restart restore: returns true when the task was recovered and is running.
  func restore() async -> Bool {
    guard let handle, handle.hasConfig else { return false }
    if state.state != .running {
      return false
    }
    if await restoreHandle(), driverHandleID != nil {
      updateState(.running, event: nil)
      // Prestart hooks run again after a restore: logmon reopens the FIFOs.
      if let logMon { try? await logMon.start() }
      return true
    }
    appendEvent(.failedRestoringTask())
    updateState(.pending, event: nil)
    self.handle = nil
    return false
  }

  /// `clearDriverHandle`: `DestroyTask(force: true)`, error ignored.
  func clearDriverHandle() async {
    if let id = driverHandleID, let driver {
      try? await driver.destroyTask(taskID: id, force: true)
    }
    driverHandleID = nil
  }

  // MARK: - State and events

  /// `EmitEvent` / `appendEvent`.
  public func appendEvent(_ event: TaskEvent) {
    record(event)
    states.publish(state)
    persist()
  }

  func updateState(_ newState: TaskLifecycleState, event: TaskEvent?) {
    if let event { record(event) }
    if newState == .running && state.state != .running { state.startedAt = Date() }
    if newState == .dead && state.finishedAt == nil { state.finishedAt = Date() }
    state.state = newState
    states.publish(state)
    persist()
  }

  /// Adds `event` to the task state (a failing event fails the task, a restart counts) and
  /// publishes it.
  private func record(_ event: TaskEvent) {
    state.events.append(event)
    if event.failsTask { state.failed = true }
    if event.type == TaskEvent.Kind.restarting {
      state.restarts += 1
      state.lastRestart = event.time
    }
    events.publish(event)
  }

  func persist() {
    guard !destroyed else { return }
    let record = PersistedTask(
      taskName: context.task.name, driver: context.task.driver, taskID: handle?.config.id,
      handle: handle?.serializedData, state: state, runComplete: runCompleted)
    do {
      try store.save(record)
    } catch {
      logger.warning("error persisting task state", metadata: ["error": "\(error)"])
    }
  }

  /// The alloc is being destroyed: stop taking driver events and persisting state.
  func allocDestroyed() {
    destroyed = true
    driverEventsTask?.cancel()
    driverEventsTask = nil
  }

  func startDriverEvents() {
    let stream = driverManager.taskEvents.subscribe(replayLatest: false)
    let allocID = context.allocID
    let name = context.task.name
    driverEventsTask = Task { [weak self] in
      for await event in stream where event.allocID == allocID && event.taskName == name {
        await self?.appendEvent(.driverMessage(event.message, annotations: event.annotations))
      }
    }
  }
}

/// A start failure with Nomad's recoverability.
struct TaskStartError: Error, CustomStringConvertible {
  var description: String
  var recoverable: Bool
  init(_ description: String, recoverable: Bool) {
    self.description = description
    self.recoverable = recoverable
  }
}

/// `ErrTaskNotRunning`.
public struct TaskNotRunningError: Error, CustomStringConvertible, Sendable {
  public init() {}
  public var description: String { "Task not running" }
}
