import Foundation
import MiloSupervisor
import MiloSys

/// The real `ContainerRuntime`: an OCI runtime (crun or runc) driven by one `milo supervise`
/// per task, with the task's files laid out by `TaskPaths`.
struct CrunRuntime: ContainerRuntime {
  /// The binary that runs `supervise` (`milo.d/milo-task`, else the plugin itself).
  var executable: String

  func lockAcrossInstances(_ paths: TaskPaths) async throws(SystemError) -> FileLock? {
    let file = paths.lockFile
    try? FileManager.default.createDirectory(
      atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
      attributes: [.posixPermissions: 0o700])
    let result = await Blocking.run { () -> Result<FileLock, SystemError> in
      do throws(SystemError) {
        return .success(try FileLock.acquire(file))
      } catch {
        return .failure(error)
      }
    }
    return try result.get()
  }

  func prepare(_ plan: LaunchPlan, taskID: String) throws {
    let fm = FileManager.default
    let paths = plan.paths
    try fm.createDirectory(
      atPath: paths.stateDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    try Posix.writeFileAtomically(paths.ownerFile, taskID + "\n")
    try fm.createDirectory(
      atPath: paths.runtimeRoot, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    try BundleBuilder.write(plan.spec, to: paths.bundle)
  }

  func start(_ plan: LaunchPlan) async throws -> (supervisor: any ContainerSupervisor, containerPid: Int32) {
    let (supervisor, containerPid) = try await SupervisorProcess.launch(
      executable: executable, options: plan.supervisorOptions)
    return (supervisor, containerPid)
  }

  func attach(_ state: DriverState) -> (any ContainerSupervisor)? {
    SupervisorProcess.attach(pid: state.supervisorPid, startTicks: state.supervisorStartTicks)
  }

  func hasExitRecord(_ state: DriverState) -> Bool {
    FileManager.default.fileExists(atPath: state.paths.exitRecord)
  }

  func exitRecord(_ state: DriverState) -> ExitRecord? {
    Posix.readText(state.paths.exitRecord).flatMap { ExitRecord(text: $0) }
  }

  func owner(_ state: DriverState) -> String? {
    Posix.readText(state.paths.ownerFile)?.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  func removeContainer(_ state: DriverState) {
    ContainerCleanup.remove(
      containerID: state.containerID, runtime: state.runtime, parent: nil, onlyIfKnown: true)
  }

  func removeState(taskStateDir: String) {
    try? FileManager.default.removeItem(atPath: taskStateDir)
  }

  func removeTaskCgroups(containerID: String) {
    CgroupMode.removeTaskCgroups(CgroupParent.taskPath(containerID))
  }

  func stats(_ state: DriverState, cgroup: CgroupMode) -> CgroupStats {
    CgroupStats(mode: cgroup, path: state.paths.cgroup)
  }

  func exec(
    _ state: DriverState, user: String, command: [String], tty: Bool, stdin: Bool
  ) async throws -> ExecProcess {
    try await ExecProcess.start(state: state, user: user, command: command, tty: tty, stdin: stdin)
  }

  func findLeftover(containerID: String, stateDir: String) -> Leftover {
    Leftover.find(containerID: containerID, stateDir: stateDir)
  }

  func clean(_ leftover: Leftover, runtimePath: String, signal: Int32?, grace: Duration) async {
    await leftover.clean(runtimePath: runtimePath, signal: signal, grace: grace)
  }
}
