import Foundation
import MiloSupervisor
import MiloSys
import NomadPlugin

extension MiloDriver {
  func task(_ id: String) async throws(DriverError) -> MiloTask {
    guard let task = await tasks.get(id) else { throw .taskNotFound(id) }
    return task
  }

  public func waitTask(id: String) async throws -> (result: ExitResult, error: String?) {
    try await task(id).wait()
  }

  public func stopTask(id: String, timeout: Duration, signal: String) async throws {
    let task = try await task(id)
    let name = signal.isEmpty ? "SIGINT" : signal
    guard let number = SignalNames.number(name) else {
      throw DriverError.invalidArgument(SignalNames.unknownMessage(name))
    }
    guard await task.isRunning else { return }
    _ = await task.signal(number)
    if await task.wait(timeout: timeout) { return }
    logger.info("task did not stop within its kill timeout; killing it", metadata: ["task_id": "\(id)"])
    _ = await task.signal(SIGKILL)
    if await !task.wait(timeout: .seconds(10)) {
      throw DriverError(.deadlineExceeded, "task \(id) did not exit 10s after SIGKILL")
    }
  }

  public func destroyTask(id: String, force: Bool) async throws {
    guard let task = await tasks.get(id) else {
      try await destroyUnknown(id: id, force: force)
      return
    }
    if await task.isRunning {
      guard force else {
        throw DriverError(.failedPrecondition, "cannot destroy running task \(id); stop it first or destroy with force")
      }
      await task.terminate()
      if await !task.wait(timeout: .seconds(10)) {
        logger.warning("supervisor did not finish; removing the container directly", metadata: ["task_id": "\(id)"])
        await task.killSupervisor()
      }
    }
    // A later start of the same task reuses the container id and state dir: leave those alone.
    let state = task.state
    try await withContainerLock(state.paths) {
      if self.owns(id, state) {
        self.runtime.removeContainer(state)
        self.runtime.removeState(taskStateDir: state.taskStateDir)
      }
    }
    await tasks.remove(id)
  }

  /// Whether task `id` still owns its container id and state dir: the state dir names it. A
  /// later start of the same task takes both over and records its own id, and while it does
  /// (even from another plugin instance, which this process's locks do not serialise with) the
  /// dir may name no task yet: then it is not this task's either.
  func owns(_ id: String, _ state: DriverState) -> Bool {
    runtime.owner(state) == id
  }

  public func inspectTask(id: String) async throws -> TaskStatus {
    try await task(id).status()
  }

  public func signalTask(id: String, signal: String) async throws {
    let task = try await task(id)
    guard let number = SignalNames.number(signal) else {
      throw DriverError.invalidArgument(SignalNames.unknownMessage(signal))
    }
    guard await task.isRunning else {
      throw DriverError(.failedPrecondition, "task \(id) is not running")
    }
    // The supervisor signals the container's first process: `milo init`, which forwards every
    // signal; a JVM that is itself the first process would never see some of them.
    if !InitBinary.runs(pid: task.state.containerPid),
      let disposition = SignalDisposition.read(pid: task.state.containerPid), disposition.discards(number)
    {
      throw DriverError(.failedPrecondition, SignalDisposition.discardedMessage(signal))
    }
    guard await task.signal(number) else {
      throw DriverError(.failedPrecondition, "task \(id) is not running")
    }
    events.emit(task.config, "Sent \(signal.uppercased()) to the application")
  }

  public func recoverTask(id: String, handle: TaskHandle) async throws {
    if await tasks.get(id) != nil { return }
    let state: DriverState
    do {
      state = try DriverState.decode(Data(handle.driverState))
    } catch {
      throw DriverError(.invalidArgument, "cannot recover task \(id): \(error)")
    }
    var config = handle.config
    if config.id.isEmpty { config.id = id }
    if let supervisor = runtime.attach(state) {
      let task = MiloTask(config: config, state: state, supervisor: supervisor, runtime: runtime)
      guard await tasks.insert(task) else {
        supervisor.release()
        return
      }
      await monitor(task)
      logger.info("recovered running task", metadata: ["task_id": "\(id)"])
      return
    }
    // The supervisor is gone. If it recorded the exit, report that; otherwise the task is lost.
    guard runtime.hasExitRecord(state) else {
      try await withContainerLock(state.paths) {
        if self.owns(id, state) { self.runtime.removeContainer(state) }
      }
      throw DriverError(
        .failedPrecondition,
        "cannot recover task \(id): its milo supervisor (pid \(state.supervisorPid)) is gone and recorded no exit;"
          + " the container was removed and Nomad will restart the task")
    }
    let task = MiloTask(config: config, state: state, supervisor: nil, runtime: runtime)
    _ = await tasks.insert(task)
    await monitor(task)
    logger.info("recovered exited task", metadata: ["task_id": "\(id)"])
  }
}
