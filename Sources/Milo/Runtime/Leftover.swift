import Foundation
import MiloSupervisor
import MiloSys

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
  static func ownerFile(_ taskStateDir: String) -> String { TaskPaths.ownerFile(taskStateDir) }

  /// The leftover's state directory layout.
  var paths: TaskPaths { TaskPaths(taskStateDir: taskStateDir, runtimeRoot: runtimeRoot, containerID: containerID) }

  /// Scans the host for what is left of `containerID` under milo's `state_dir`.
  static func find(containerID: String, stateDir: String) -> Leftover {
    let paths = TaskPaths(stateDir: stateDir, containerID: containerID)
    let taskStateDir = paths.stateDir
    let runtimeRoot = paths.runtimeRoot
    let fm = FileManager.default
    let owner = Posix.readText(paths.ownerFile).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    var containerPid: Int32?
    if let text = Posix.readText(paths.pidFile),
      let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0, kill(pid, 0) == 0,
      processIsIn(cgroupNamed: containerID, pid: pid)
    {
      containerPid = pid
    }
    return Leftover(
      containerID: containerID, taskStateDir: taskStateDir, runtimeRoot: runtimeRoot,
      owner: owner?.isEmpty == false ? owner : nil,
      supervisors: supervisorPids(taskStateDir: taskStateDir),
      containerExists: fm.fileExists(atPath: paths.runtimeState), containerPid: containerPid,
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

extension Leftover {
  /// Removes everything the leftover describes: a running container is sent `signal` and, after
  /// `grace`, killed; then its supervisor, runtime state, cgroup and state dir are removed.
  func clean(runtimePath: String, signal: Int32?, grace: Duration) async {
    let supervisors = supervisors.compactMap { pid in
      SupervisorProcess.startTicks(of: pid).flatMap { SupervisorProcess.attach(pid: pid, startTicks: $0) }
    }
    // The container's first process through a pidfd, opened while it is still in the
    // container's cgroup: signals and the exit wait can then never reach a reused pid.
    let container = containerPid.flatMap { pid -> PidFD? in
      guard let pidfd = try? PidFD(pid: pid) else { return nil }
      guard Leftover.processIsIn(cgroupNamed: containerID, pid: pid) else {
        pidfd.close()
        return nil
      }
      return pidfd
    }
    defer {
      supervisors.forEach { $0.release() }
      container?.close()
    }
    let watched = supervisors.compactMap(\.pidfd) + [container].compactMap { $0 }
    /// Woken by the exits themselves (ExitMonitor), not by polling.
    func waitUntilStopped(_ timeout: Duration) async -> Bool {
      let stopped = await ExitMonitor.shared.waitForAll(watched, timeout: timeout)
      supervisors.forEach { $0.reap() }
      return stopped
    }
    if isRunning {
      if let signal {
        if supervisors.isEmpty, let container {
          container.send(signal)
        } else {
          supervisors.forEach { $0.forward(signal: signal) }
        }
      }
      var stopped = false
      if signal != nil { stopped = await waitUntilStopped(grace) }
      if !stopped {
        // The supervisor kills the container on SIGTERM and deletes it; without one, SIGKILL.
        supervisors.forEach { $0.terminate() }
        if supervisors.isEmpty { container?.send(SIGKILL) }
        if !(await waitUntilStopped(.seconds(10))) {
          supervisors.forEach { $0.kill() }
          container?.send(SIGKILL)
          _ = await waitUntilStopped(.seconds(5))
        }
      }
    }
    supervisors.forEach { $0.reap() }
    ContainerCleanup.remove(
      containerID: containerID, runtime: RuntimeCommand(path: runtimePath, root: runtimeRoot),
      parent: CgroupParent(runtimeRoot: runtimeRoot), onlyIfKnown: true,
      removeTaskCgroups: { CgroupMode.removeTaskCgroups(paths.cgroup) })
    try? FileManager.default.removeItem(atPath: taskStateDir)
  }
}
