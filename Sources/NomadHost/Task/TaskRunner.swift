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

  private let store: TaskStateStore
  private var state = TaskState()
  private var restartTracker: RestartTracker
  private var driver: PluginClient?
  private var taskSchema: HCLSpecProto?
  private var capabilities: DriverCapabilitiesProto?
  /// `localState.TaskHandle`: the handle as returned by the plugin.
  private var handle: TaskHandleProto?
  /// The ID of the current driver handle (nil when there is none).
  private var driverHandleID: String?
  private var taskDirDone = false
  private var artifactsDone = false
  private var runStarted = false
  private var restoreOnRun = false
  private let killRequested = Latch<Void>()
  private let finished = Latch<TaskState>()
  private var killError: String?
  private var driverEventsTask: Task<Void, Never>?

  private var logger: Logger {
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
    for event in state.events { events.publish(event) }
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
        var result: ExitResult?
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

    if driverHandleID != nil {
      if let result = await handleKill(nil) { emitExitResultEvent(result) }
      await clearDriverHandle()
    }
    return await finish()
  }

  private enum Attempt {
    case started
    case failedToStart
    case aborted
  }

  private func startAttempt() async -> Attempt {
    do {
      try await prestart()
    } catch let error as TaskStartError {
      restartTracker.setStartError(recoverable: error.recoverable)
      return .failedToStart
    } catch {
      restartTracker.setStartError(recoverable: false)
      return .failedToStart
    }
    if killRequested.isFulfilled { return .aborted }
    do {
      try await runDriver()
    } catch let error as TaskStartError {
      restartTracker.setStartError(recoverable: error.recoverable)
      return .failedToStart
    } catch {
      restartTracker.setStartError(recoverable: false)
      return .failedToStart
    }
    return .started
  }

  private func raceKill(_ waiter: Task<ExitResult, Never>) async -> Bool {
    let kill = killRequested
    return await withTaskGroup(of: Bool.self) { group in
      group.addTask {
        _ = await waiter.value
        return false
      }
      group.addTask {
        _ = await kill.wait()
        return !Task.isCancelled
      }
      let first = await group.next() ?? false
      group.cancelAll()
      return first
    }
  }

  private func finish() async -> TaskState {
    updateState(.dead, event: nil)
    driverEventsTask?.cancel()
    // Stop hooks: logmon.
    await logMon?.stop()
    persist(runComplete: true)
    finished.fulfil(state)
    states.finish()
    events.finish()
    return state
  }

  // MARK: - Driver

  /// `initDriver`: dispense the plugin, then `TaskConfigSchema` and `Capabilities`.
  private func initDriver() async throws {
    let instance = try await driverManager.dispense()
    driver = instance
    taskSchema = try await instance.taskConfigSchema()
    capabilities = try await instance.capabilities()
  }

  private var isolation: FSIsolation {
    capabilities.map { FSIsolation($0.fsIsolation) } ?? .none
  }

  private var effectiveContext: TaskEnvironment.Context {
    var context = self.context
    context.isolation = isolation
    return context
  }

  // MARK: - Prestart hooks

  private func prestart() async throws {
    // task_dir
    if !taskDirDone {
      appendEvent(.setup("Building Task Directory"))
      do {
        try context.allocDir.buildTaskDir(
          context.task.name, isolation: isolation, mountTmpfs: client.mountTmpfs, bindMount: client.bindMountAllocDir)
      } catch {
        appendEvent(.hookFailed("task_dir: \(error)"))
        throw TaskStartError("prestart hook \"task_dir\" failed: \(error)", recoverable: false)
      }
      taskDirDone = true
    }
    // logmon
    if let logMon {
      do {
        try await logMon.start()
      } catch {
        appendEvent(.hookFailed("logmon: \(error)"))
        throw TaskStartError("prestart hook \"logmon\" failed: \(error)", recoverable: true)
      }
    }
    // artifacts
    if !artifactsDone && !context.task.artifacts.isEmpty {
      appendEvent(.downloadingArtifacts())
      for artifact in context.task.artifacts {
        do {
          try ArtifactFetcher.fetch(artifact, taskDir: context.allocDir.taskDir(context.task.name).dir)
        } catch {
          appendEvent(.artifactDownloadFailed("\(error)"))
          throw TaskStartError("prestart hook \"artifacts\" failed: \(error)", recoverable: true)
        }
      }
      artifactsDone = true
    }
  }

  /// The FIFO paths logmon reads (or /dev/null when logs are disabled).
  private var outputPaths: (stdout: String, stderr: String) {
    guard let logMon else { return ("/dev/null", "/dev/null") }
    return (logMon.config.stdoutFifo, logMon.config.stderrFifo)
  }

  /// The environment and TaskConfig for a start.
  public func buildTaskConfig() throws -> (TaskConfigProto, HCLVariables) {
    let environment = TaskEnvironment.build(effectiveContext, client: client)
    let paths = outputPaths
    let inputs = TaskConfigBuilder.Inputs(
      context: effectiveContext, environment: environment.env, stdoutPath: paths.stdout, stderrPath: paths.stderr,
      networkIsolation: networkIsolation, msgpackDriverConfig: [])
    return (TaskConfigBuilder.build(inputs, client: client), environment.variables)
  }

  /// `runDriver`.
  private func runDriver() async throws {
    var (taskConfig, variables) = try buildTaskConfig()
    do {
      taskConfig.msgpackDriverConfig = Data(
        try ConfigEncoder.encodeTaskConfig(context.task.config, spec: taskSchema, variables: variables))
    } catch {
      appendEvent(.failedValidation(error.description))
      throw TaskStartError(error.description, recoverable: false)
    }
    guard var driver else { throw TaskStartError("no driver", recoverable: false) }
    let response: StartTaskResponseProto
    do {
      response = try await driver.startTask(taskConfig)
    } catch let error as PluginCallError where error == .pluginShutdown {
      logger.info("failed to start task because plugin shutdown unexpectedly; attempting to recover")
      do {
        try await initDriver()
        guard let fresh = self.driver else { throw PluginCallError.pluginShutdown }
        driver = fresh
      } catch {
        let text = "failed to initialize driver after it exited unexpectedly: \(error)"
        appendEvent(.driverFailure(text))
        throw TaskStartError(text, recoverable: false)
      }
      do {
        response = try await driver.startTask(taskConfig)
      } catch {
        let text = "failed to start task after driver exited unexpectedly: \(error)"
        appendEvent(.driverFailure(text))
        throw TaskStartError(text, recoverable: false)
      }
    } catch {
      let mapped = PluginCallError.from(error)
      appendEvent(.driverFailure(mapped.description))
      throw TaskStartError(mapped.description, recoverable: mapped.isRecoverable)
    }
    handle = response.hasHandle ? response.handle : TaskHandleProto()
    driverHandleID = taskConfig.id
    persist()
    updateState(.running, event: .started())
  }

  private func waitTask(driver: PluginClient, taskID: String) async -> ExitResult {
    do {
      return ExitResult(try await driver.waitTask(taskID: taskID))
    } catch let error as PluginCallError {
      if error == .pluginShutdown { return ExitResult(exitCode: 0, error: error.description, pluginShutdown: true) }
      return ExitResult(exitCode: 0, error: error.description)
    } catch {
      return ExitResult(exitCode: 0, error: "\(error)")
    }
  }

  /// `handleTaskExitResult`: true when the wait should be retried (the plugin died and the task
  /// was recovered on a new instance).
  private func handleTaskExitResult(_ result: ExitResult) async -> Bool {
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

  private func emitExitResultEvent(_ result: ExitResult) {
    appendEvent(
      .terminated(exitCode: result.exitCode, signal: result.signal, oomKilled: result.oomKilled, message: result.error))
  }

  /// `restoreHandle`: `RecoverTask` with the stored handle.
  private func restoreHandle() async -> Bool {
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
  private func restore() async -> Bool {
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
  private func clearDriverHandle() async {
    if let id = driverHandleID, let driver {
      try? await driver.destroyTask(taskID: id, force: true)
    }
    driverHandleID = nil
  }

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
  private func handleKill(_ waiter: Task<ExitResult, Never>?) async -> ExitResult? {
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

  private static func value(of task: Task<ExitResult, Never>, within timeout: Duration) async -> ExitResult? {
    await withTaskGroup(of: ExitResult?.self) { group in
      group.addTask { await task.value }
      group.addTask {
        try? await Task.sleep(for: timeout)
        return nil
      }
      let first = await group.next() ?? nil
      group.cancelAll()
      return first
    }
  }

  // MARK: - Restart decision

  private func shouldRestart() -> (Bool, Duration) {
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

  // MARK: - State and events

  /// `EmitEvent` / `appendEvent`.
  public func appendEvent(_ event: TaskEvent) {
    state.events.append(event)
    if event.failsTask { state.failed = true }
    if event.type == TaskEvent.Kind.restarting {
      state.restarts += 1
      state.lastRestart = event.time
    }
    events.publish(event)
    states.publish(state)
    persist()
  }

  private func updateState(_ newState: TaskLifecycleState, event: TaskEvent?) {
    if let event {
      state.events.append(event)
      if event.failsTask { state.failed = true }
      if event.type == TaskEvent.Kind.restarting {
        state.restarts += 1
        state.lastRestart = event.time
      }
      events.publish(event)
    }
    if newState == .running && state.state != .running { state.startedAt = Date() }
    if newState == .dead && state.finishedAt == nil { state.finishedAt = Date() }
    state.state = newState
    states.publish(state)
    persist()
  }

  private func persist(runComplete: Bool = false) {
    let record = PersistedTask(
      taskName: context.task.name, driver: context.task.driver, taskID: handle?.config.id,
      handle: handle?.serializedData, state: state, runComplete: runComplete)
    do {
      try store.save(record)
    } catch {
      logger.warning("error persisting task state", metadata: ["error": "\(error)"])
    }
  }

  private func startDriverEvents() {
    let stream = driverManager.taskEvents.subscribe(replayLatest: false)
    let allocID = context.allocID
    let name = context.task.name
    driverEventsTask = Task { [weak self] in
      for await event in stream where event.allocID == allocID && event.taskName == name {
        await self?.appendEvent(.driverMessage(event.message, annotations: event.annotations))
      }
    }
  }

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
