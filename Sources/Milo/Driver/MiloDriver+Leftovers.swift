import Foundation
import MiloSupervisor
import NomadPlugin

extension MiloDriver {
  /// Nomad's default kill signal and kill timeout, used to stop a leftover whose task's own are
  /// not known (a `TaskConfig` carries neither).
  static let leftoverStopSignal = SIGINT
  static let leftoverStopSignalName = "SIGINT"
  static let leftoverStopGrace: Duration = .seconds(5)

  /// Stops a task this plugin instance runs under the same container id as `config` (an earlier
  /// start Nomad gave up on) and forgets it. Returns a description of what was stopped, or nil.
  func retireKnownTask(sharing containerID: String, with config: TaskConfig) async -> String? {
    guard let old = await tasks.first(where: { $0.state.containerID == containerID }), old.id != config.id else {
      return nil
    }
    var description = "task \(old.id)"
    if await old.isRunning {
      description += " (running, supervisor pid \(old.state.supervisorPid))"
      _ = await old.signal(Self.leftoverStopSignal)
      if await !old.wait(timeout: Self.leftoverStopGrace) {
        await old.terminate()
        if await !old.wait(timeout: .seconds(10)) { await old.killSupervisor() }
      }
    }
    await tasks.remove(old.id)
    return description
  }

  /// Before a start: stops and removes whatever an earlier start of the same task left under the
  /// container id, logging a warning and emitting a task event that say what was cleaned.
  func cleanBeforeStart(_ config: TaskConfig, plan: LaunchPlan) async {
    let retired = await retireKnownTask(sharing: plan.containerID, with: config)
    let leftover = runtime.findLeftover(containerID: plan.containerID, stateDir: currentConfig.stateDir)
    guard retired != nil || !leftover.isEmpty else { return }
    let state = leftover.isRunning ? "a running" : "a stopped"
    var found = [retired, leftover.isEmpty ? nil : leftover.summary].compactMap { $0 }.joined(separator: "; ")
    if found.isEmpty { found = "nothing else" }
    let message =
      "Replaced \(state) earlier start of this task in container \(plan.containerID) (\(found)):"
      + (leftover.isRunning
        ? " sent \(Self.leftoverStopSignalName), killed after \(Self.leftoverStopGrace) if still running,"
        : "") + " removed its container, cgroup and state"
    logger.warning(
      "\(message)", metadata: ["task_id": "\(config.id)", "container": "\(plan.containerID)"])
    await runtime.clean(
      leftover, runtimePath: plan.runtime.path, signal: Self.leftoverStopSignal, grace: Self.leftoverStopGrace)
    events.emit(config, message, annotations: ["container": plan.containerID])
  }

  /// DestroyTask for a task id this plugin instance does not know: removes the container started
  /// for exactly that id (the state dir names it), and never one a later start of the task owns.
  func destroyUnknown(id: String, force: Bool) async throws {
    let stateDir = currentConfig.stateDir
    let paths = TaskPaths(stateDir: stateDir, containerID: LaunchPlanner.containerID(for: id))
    let legacy = TaskPaths(stateDir: stateDir, containerID: LaunchPlanner.legacyContainerID(for: id))
    // Both ids it may clean, always in this order (only this path takes the legacy one).
    try await withContainerLock(paths) {
      try await self.withContainerLock(legacy) {
        try await self.destroyUnknownLocked(id: id, force: force)
      }
    }
  }

  private func destroyUnknownLocked(id: String, force: Bool) async throws {
    let stateDir = currentConfig.stateDir
    var cleaned: [Leftover] = []
    let current = runtime.findLeftover(containerID: LaunchPlanner.containerID(for: id), stateDir: stateDir)
    if !current.isEmpty && current.owner == id { cleaned.append(current) }
    let legacy = runtime.findLeftover(containerID: LaunchPlanner.legacyContainerID(for: id), stateDir: stateDir)
    if !legacy.isEmpty { cleaned.append(legacy) }
    guard !cleaned.isEmpty else { return }
    if !force, let running = cleaned.first(where: \.isRunning) {
      throw DriverError(
        .failedPrecondition,
        "cannot destroy running task \(id) (container \(running.containerID), not known to this plugin instance);"
          + " stop it first or destroy with force")
    }
    let runtimePath = report.runtime?.path ?? currentConfig.runtime
    for leftover in cleaned {
      let message =
        "Removed container \(leftover.containerID) of task \(id), which this plugin instance did not know (\(leftover.summary))"
      logger.warning("\(message)", metadata: ["task_id": "\(id)"])
      await runtime.clean(leftover, runtimePath: runtimePath, signal: nil, grace: .zero)
      events.emit(Self.eventConfig(taskID: id), message, annotations: ["container": leftover.containerID])
    }
  }

  /// A config that addresses events to the task a Nomad task id names.
  static func eventConfig(taskID: String) -> TaskConfig {
    var config = TaskConfig()
    config.id = taskID
    let parts = taskID.split(separator: "/", omittingEmptySubsequences: false)
    if parts.count >= 3 {
      config.allocID = String(parts[0])
      config.name = parts[1..<(parts.count - 1)].joined(separator: "/")
    }
    return config
  }
}
