extension RuntimeCommand {
  /// `state`: the container's state as JSON (`status`, `pid`, ...).
  public func stateArguments(containerID: String) -> [String] {
    globalArguments + ["state", containerID]
  }
}
