import Foundation
import MiloSupervisor
import MiloSys
import NomadPlugin

extension MiloDriver {
  public func startTask(_ config: TaskConfig) async throws -> (TaskHandle, NetworkOverride?) {
    if await tasks.get(config.id) != nil {
      throw DriverError(.alreadyExists, "task with ID \(config.id) already started")
    }
    let plan: LaunchPlan
    do {
      plan = try LaunchPlanner(config: currentConfig, report: report, initBinary: initBinary).plan(for: config)
    } catch {
      throw Self.planFailure(error, stderrPath: config.stderrPath)
    }
    events.emit(
      config, "Using Java \(plan.java.version) (\(plan.java.vendor)) from \(plan.java.home)",
      annotations: ["java_home": plan.java.home, "java_version": plan.java.version])
    for warning in plan.warnings {
      events.emit(config, warning)
      logger.warning("\(warning)", metadata: ["task_id": "\(config.id)"])
    }

    let task = try await withContainerLock(plan.paths) {
      try await self.launch(config, plan: plan)
    }
    await monitor(task)
    events.emit(config, "Container \(plan.containerID) started (pid \(task.state.containerPid))")
    if let problem = initBinaryProblem {
      events.emit(
        config,
        "The JVM is the container's first process, so signals it has no handler for are discarded: \(problem)")
    }
    logger.info(
      "task started", metadata: ["task_id": "\(config.id)", "container": "\(plan.containerID)"])
    return (try handle(for: task), nil)
  }

  /// The error Nomad sees when a task cannot be planned, written to the task's stderr log too:
  /// a host problem (not root, no runtime, no Java) is FailedPrecondition, as the same task
  /// would start on a host without it; anything else is the task's input (InvalidArgument).
  static func planFailure(_ error: any Error, stderrPath: String) -> DriverError {
    let message = "\(error)"
    TaskLog.writeStderr(stderrPath, message + "\n")
    if error is HostProblem { return .hostProblem(message) }
    return .invalidArgument(message)
  }

  /// Replaces what an earlier start of the task left, writes the bundle and starts the
  /// supervisor; holding the container id's lock.
  func launch(_ config: TaskConfig, plan: LaunchPlan) async throws -> MiloTask {
    // The container id is per alloc and task: an earlier start of this task may have left a
    // container (running or not), its supervisor and its state behind. Replace them.
    await cleanBeforeStart(config, plan: plan)

    do {
      try runtime.prepare(plan, taskID: config.id)
    } catch {
      runtime.removeState(taskStateDir: plan.paths.stateDir)
      throw DriverError(.internalError, "failed to prepare the container bundle in \(plan.paths.stateDir): \(error)")
    }

    let launched: (supervisor: any ContainerSupervisor, containerPid: Int32)
    do {
      launched = try await runtime.start(plan)
    } catch {
      runtime.removeState(taskStateDir: plan.paths.stateDir)
      let message = "failed to start the container for task \(config.name): \(error)"
      logger.error("\(message)")
      runtime.removeTaskCgroups(containerID: plan.containerID)
      // The inputs were valid, so the failure may be transient: let Nomad's restart policy retry.
      throw DriverError(.internalError, message, recoverable: true)
    }
    let (supervisor, containerPid) = launched
    let state = DriverState(
      version: DriverState.currentVersion, taskID: config.id, containerID: plan.containerID,
      taskStateDir: plan.paths.stateDir, supervisorPid: supervisor.pid,
      supervisorStartTicks: supervisor.startTicks, containerPid: containerPid,
      startedAt: Posix.wallNanos(), runtimePath: plan.runtime.path, runtimeRoot: plan.paths.runtimeRoot,
      javaHome: plan.java.home, javaVersion: plan.java.version)
    let task = MiloTask(config: config, state: state, supervisor: supervisor, runtime: runtime)
    _ = await tasks.insert(task)
    return task
  }

  /// Watches a task's exit and reports OOM kills as events.
  func monitor(_ task: MiloTask) async {
    let events = self.events
    let config = task.config
    await task.startMonitoring { record in
      if record.oomKilled {
        events.emit(
          config, "Task was OOM-killed: it used more memory than its limit", annotations: ["oom_killed": "true"])
      }
    }
  }

  func handle(for task: MiloTask) throws -> TaskHandle {
    var handle = TaskHandle()
    handle.version = Int32(DriverState.currentVersion)
    handle.config = task.config
    handle.state = .running
    handle.driverState = [UInt8](try task.state.encoded())
    return handle
  }
}

/// Writes a message to the task's stderr log, so `nomad alloc logs -stderr` explains a failure.
enum TaskLog {
  static func writeStderr(_ path: String, _ message: String) {
    guard !path.isEmpty, path != "/dev/null" else { return }
    let fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
    guard fd >= 0 else { return }
    Posix.writeAll(fd, Array(message.utf8))
    close(fd)
  }
}
