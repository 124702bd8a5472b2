extension RuntimeCommand {
  /// `kill`: sends `signal` (a number or a name such as `SIGTERM`) to the container's first
  /// process, or with `all` to every process in it.
  public func killArguments(containerID: String, signal: String, all: Bool = false) -> [String] {
    globalArguments + ["kill"] + (all ? ["--all"] : []) + [containerID, signal]
  }
}
