import MiloSupervisor
import MiloSys

/// What MiloDriver's lifecycle needs from the container world: one seam, so that the lifecycle
/// logic (start, signal, stop, wait, destroy, recover, stats, exec, leftovers) can be tested
/// without root against a fake. `CrunRuntime` is the real implementation.
protocol ContainerRuntime: Sendable {
  /// Takes the lock of the container id that every plugin instance takes to start, destroy or
  /// clean up after it (Nomad runs two instances of a plugin around a restart); nil when there
  /// is no other instance to exclude. Throws when the lock file cannot be made.
  func lockAcrossInstances(_ paths: TaskPaths) async throws(SystemError) -> FileLock?
  /// Writes the task's state directory (owned by `taskID`), the runtime root and the bundle.
  func prepare(_ plan: LaunchPlan, taskID: String) throws
  /// Starts the task's supervisor, which runs the container; returns once the container runs.
  /// Throws `SupervisorLaunchError` when it could not start (the state directory is left).
  func start(_ plan: LaunchPlan) async throws -> (supervisor: any ContainerSupervisor, containerPid: Int32)
  /// Reattaches to the supervisor a driver state names after a plugin restart; nil when gone.
  func attach(_ state: DriverState) -> (any ContainerSupervisor)?
  /// Whether the supervisor recorded the task's exit.
  func hasExitRecord(_ state: DriverState) -> Bool
  /// The exit the supervisor recorded, once there is one (nil also when it is unreadable).
  func exitRecord(_ state: DriverState) -> ExitRecord?
  /// The Nomad task id that owns the task's state directory, when recorded.
  func owner(_ state: DriverState) -> String?
  /// Deletes the container if the supervisor could not (it normally does on exit).
  func removeContainer(_ state: DriverState)
  /// Removes the task's state directory.
  func removeState(taskStateDir: String)
  /// Removes the task cgroups a failed start left.
  func removeTaskCgroups(containerID: String)
  /// The container's resource usage source, on a host with cgroup mode `cgroup`.
  func stats(_ state: DriverState, cgroup: CgroupMode) -> CgroupStats
  /// Runs a command in the running container.
  func exec(
    _ state: DriverState, user: String, command: [String], tty: Bool, stdin: Bool
  ) async throws -> ExecProcess
  /// What is left on the host of `containerID` under milo's `state_dir`.
  func findLeftover(containerID: String, stateDir: String) -> Leftover
  /// Removes everything `leftover` describes: a running container is sent `signal` and, after
  /// `grace`, killed; then its supervisor, runtime state, cgroup and state dir are removed.
  func clean(_ leftover: Leftover, runtimePath: String, signal: Int32?, grace: Duration) async
}
