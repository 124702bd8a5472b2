import Foundation
import MiloSupervisor
import NomadPlugin

/// What is left on the host of one container id: an earlier start of the same task (Nomad
/// restarts a task it believes exited, or repeats a `StartTask` whose answer it lost when the
/// plugin died), which this plugin instance may not know.
struct Leftover: Sendable {
  var containerID: String
  /// `<state_dir>/tasks/<container id>`.
  var taskStateDir: String
  var runtimeRoot: String
  /// The Nomad task id recorded in the state dir when the container was started.
  var owner: String?
  /// `milo supervise` processes of this container.
  var supervisors: [Int32]
  /// The runtime still has state for the container.
  var containerExists: Bool
  /// The container's first process, when it is alive.
  var containerPid: Int32?
  var stateDirExists: Bool

  var isEmpty: Bool { supervisors.isEmpty && !containerExists && containerPid == nil && !stateDirExists }
  var isRunning: Bool { !supervisors.isEmpty || containerPid != nil }

  /// The file that names the task id a state dir belongs to.
  static func ownerFile(_ taskStateDir: String) -> String { taskStateDir + "/task-id" }

  /// Scans the host for what is left of `containerID` under milo's `state_dir`.
  static func find(containerID: String, stateDir: String) -> Leftover {
    let taskStateDir = stateDir + "/tasks/" + containerID
    let runtimeRoot = stateDir + "/runtime"
    let fm = FileManager.default
    let owner = Posix.readText(ownerFile(taskStateDir)).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    var containerPid: Int32?
    if let text = Posix.readText(taskStateDir + "/container.pid"),
      let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0, kill(pid, 0) == 0,
      processIsIn(cgroupNamed: containerID, pid: pid)
    {
      containerPid = pid
    }
    return Leftover(
      containerID: containerID, taskStateDir: taskStateDir, runtimeRoot: runtimeRoot,
      owner: owner?.isEmpty == false ? owner : nil,
      supervisors: supervisorPids(taskStateDir: taskStateDir),
      containerExists: fm.fileExists(atPath: runtimeRoot + "/" + containerID), containerPid: containerPid,
      stateDirExists: fm.fileExists(atPath: taskStateDir))
  }

  /// The `milo supervise` processes whose `--state-dir` is `taskStateDir`.
  static func supervisorPids(taskStateDir: String) -> [Int32] {
    var pids: [Int32] = []
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
      guard let pid = Int32(entry), let raw = Posix.readFile("/proc/\(entry)/cmdline") else { continue }
      let args = raw.split(separator: 0, omittingEmptySubsequences: false).map {
        String(decoding: $0, as: UTF8.self)
      }
      guard args.count > 3, args[1] == "supervise" else { continue }
      if let index = args.firstIndex(of: "--state-dir"), index + 1 < args.count, args[index + 1] == taskStateDir {
        pids.append(pid)
      }
    }
    return pids
  }

  /// Whether `pid`'s cgroup path names the container (guards against a reused pid).
  static func processIsIn(cgroupNamed containerID: String, pid: Int32) -> Bool {
    guard let text = Posix.readText("/proc/\(pid)/cgroup") else { return false }
    return text.split(separator: "\n").contains {
      $0.hasSuffix("/" + containerID) || $0.contains("/" + containerID + "/")
    }
  }

  /// A one-line account of what was found, for the plugin log and the task event.
  var summary: String {
    var parts: [String] = []
    if !supervisors.isEmpty { parts.append("supervisor pid \(supervisors.map(String.init).joined(separator: ", "))") }
    if let containerPid { parts.append("container pid \(containerPid)") }
    if containerExists && containerPid == nil { parts.append("stopped container") }
    if stateDirExists { parts.append("state dir \(taskStateDir)") }
    if let owner { parts.append("started as task \(owner)") }
    return parts.joined(separator: ", ")
  }
}

extension MiloDriver {
  /// Nomad's default kill signal and kill timeout, used to stop a leftover whose task's own are
  /// not known (a `TaskConfig` carries neither).
  static let leftoverStopSignal = SIGINT
  static let leftoverStopSignalName = "SIGINT"
  static let leftoverStopGrace: Duration = .seconds(5)

  /// Stops a task this plugin instance runs under the same container id as `config` (an earlier
  /// start Nomad gave up on) and forgets it. Returns a description of what was stopped, or nil.
  func retireKnownTask(sharing containerID: String, with config: Proto.TaskConfig) async -> String? {
    guard let old = await tasks.first(where: { $0.state.containerID == containerID }), old.id != config.id else {
      return nil
    }
    var description = "task \(old.id)"
    if await old.isRunning {
      description += " (running, supervisor pid \(old.state.supervisorPid))"
      _ = await old.signal(Self.leftoverStopSignal)
      if await !old.wait(timeout: Self.leftoverStopGrace) {
        await old.terminate()
        if await !old.wait(timeout: .seconds(10)) { kill(old.state.supervisorPid, SIGKILL) }
      }
    }
    await tasks.remove(old.id)
    return description
  }

  /// Removes everything `leftover` describes: a running container is sent `signal` and, after
  /// `grace`, killed; then its supervisor, runtime state, cgroup and state dir are removed.
  func clean(_ leftover: Leftover, runtimePath: String, signal: Int32?, grace: Duration) async {
    let supervisors = leftover.supervisors.compactMap { pid in
      SupervisorProcess.startTicks(of: pid).flatMap { SupervisorProcess.attach(pid: pid, startTicks: $0) }
    }
    defer { supervisors.forEach { $0.release() } }
    func stillRunning() -> Bool {
      supervisors.contains { $0.isRunning }
        || leftover.containerPid.map {
          kill($0, 0) == 0 && Leftover.processIsIn(cgroupNamed: leftover.containerID, pid: $0)
        }
          ?? false
    }
    func waitUntilStopped(_ timeout: Duration) async -> Bool {
      let deadline = ContinuousClock.now + timeout
      while stillRunning() {
        supervisors.forEach { $0.reap() }
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: .milliseconds(20))
      }
      return true
    }
    if leftover.isRunning {
      if let signal {
        if supervisors.isEmpty, let pid = leftover.containerPid {
          kill(pid, signal)
        } else {
          supervisors.forEach { $0.forward(signal: signal) }
        }
      }
      var stopped = false
      if signal != nil { stopped = await waitUntilStopped(grace) }
      if !stopped {
        // The supervisor kills the container on SIGTERM and deletes it; without one, SIGKILL.
        supervisors.forEach { $0.terminate() }
        if supervisors.isEmpty, let pid = leftover.containerPid { kill(pid, SIGKILL) }
        if !(await waitUntilStopped(.seconds(10))) {
          supervisors.forEach { kill($0.pid, SIGKILL) }
          if let pid = leftover.containerPid { kill(pid, SIGKILL) }
          _ = await waitUntilStopped(.seconds(5))
        }
      }
    }
    supervisors.forEach { $0.reap() }
    if FileManager.default.fileExists(atPath: leftover.runtimeRoot + "/" + leftover.containerID) {
      _ = try? Spawn.run(
        [runtimePath, "--root", leftover.runtimeRoot, "delete", "--force", leftover.containerID],
        environment: currentEnvironment())
    }
    CgroupMode.removeTaskCgroups(CgroupParent.taskPath(leftover.containerID))
    CgroupParent(runtimeRoot: leftover.runtimeRoot).removeIfUnused()
    try? FileManager.default.removeItem(atPath: leftover.taskStateDir)
  }

  /// Before a start: stops and removes whatever an earlier start of the same task left under the
  /// container id, logging a warning and emitting a task event that say what was cleaned.
  func cleanBeforeStart(_ config: Proto.TaskConfig, plan: LaunchPlan) async {
    let retired = await retireKnownTask(sharing: plan.containerID, with: config)
    let leftover = Leftover.find(containerID: plan.containerID, stateDir: currentConfig.stateDir)
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
    await clean(
      leftover, runtimePath: plan.runtime.path, signal: Self.leftoverStopSignal, grace: Self.leftoverStopGrace)
    events.emit(config, message, annotations: ["container": plan.containerID])
  }

  /// DestroyTask for a task id this plugin instance does not know: removes the container started
  /// for exactly that id (the state dir names it), and never one a later start of the task owns.
  func destroyUnknown(id: String, force: Bool) async throws {
    try await containerLocks.withLock(LaunchPlanner.containerID(for: id)) {
      try await self.destroyUnknownLocked(id: id, force: force)
    }
  }

  private func destroyUnknownLocked(id: String, force: Bool) async throws {
    let stateDir = currentConfig.stateDir
    var cleaned: [Leftover] = []
    let current = Leftover.find(containerID: LaunchPlanner.containerID(for: id), stateDir: stateDir)
    if !current.isEmpty && current.owner == id { cleaned.append(current) }
    let legacy = Leftover.find(containerID: LaunchPlanner.legacyContainerID(for: id), stateDir: stateDir)
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
      await clean(leftover, runtimePath: runtimePath, signal: nil, grace: .zero)
      events.emit(Self.eventConfig(taskID: id), message, annotations: ["container": leftover.containerID])
    }
  }

  /// A config that addresses events to the task a Nomad task id names.
  static func eventConfig(taskID: String) -> Proto.TaskConfig {
    var config = Proto.TaskConfig()
    config.id = taskID
    let parts = taskID.split(separator: "/", omittingEmptySubsequences: false)
    if parts.count >= 3 {
      config.allocID = String(parts[0])
      config.name = parts[1..<(parts.count - 1)].joined(separator: "/")
    }
    return config
  }
}
