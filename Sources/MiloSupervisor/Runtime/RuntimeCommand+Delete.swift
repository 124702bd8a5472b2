import MiloSys

extension RuntimeCommand {
  /// `delete --force`: kills what is left of the container and removes it with its cgroup.
  public func deleteArguments(containerID: String) -> [String] {
    globalArguments + ["delete", "--force", containerID]
  }

  /// Runs `delete --force`; returns the runtime's output when it failed, nil on success.
  /// Throws when the runtime could not be started.
  @discardableResult
  public func delete(containerID: String) throws -> String? {
    let result = try Spawn.run(deleteArguments(containerID: containerID), environment: Environment.list())
    return result.status == 0 ? nil : result.output
  }
}
