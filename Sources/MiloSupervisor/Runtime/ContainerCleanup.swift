#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Removing a task's container: the one cleanup used by the supervisor when the task ends, by
/// DestroyTask when the supervisor could not, and for what an earlier start left behind.
public enum ContainerCleanup {
  /// Deletes the container with `delete --force` (and so its cgroup), then removes the task
  /// cgroups `removeTaskCgroups` names, then the cgroup parent if no task is left in it.
  ///
  /// - Parameters:
  ///   - onlyIfKnown: skip the delete when the runtime has no state for the container.
  ///   - removeTaskCgroups: removes the task's cgroup directories the runtime left, if any.
  ///   - log: told when the delete failed and when the parent was removed.
  public static func remove(
    containerID: String, runtime: RuntimeCommand, parent: CgroupParent?, onlyIfKnown: Bool = false,
    removeTaskCgroups: (() -> Void)? = nil, log: (String) -> Void = { _ in }
  ) {
    let known = runtime.root.map { access($0 + "/" + containerID, F_OK) == 0 } ?? true
    if !onlyIfKnown || known {
      if let output = try? runtime.delete(containerID: containerID) {
        log("delete \(containerID): \(output)")
      }
    }
    removeTaskCgroups?()
    if let removed = parent?.removeIfUnused(), !removed.isEmpty {
      log("removed the empty cgroup parent: \(removed.joined(separator: " "))")
    }
  }
}
