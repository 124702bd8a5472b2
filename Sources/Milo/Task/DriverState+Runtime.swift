import MiloSupervisor

extension DriverState {
  /// The task's state directory layout and cgroup path.
  public var paths: TaskPaths {
    TaskPaths(taskStateDir: taskStateDir, runtimeRoot: runtimeRoot, containerID: containerID)
  }

  /// The OCI runtime the task was started with, with its state root.
  public var runtime: RuntimeCommand { RuntimeCommand(path: runtimePath, root: runtimeRoot) }
}
