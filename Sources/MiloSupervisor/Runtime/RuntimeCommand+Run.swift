extension RuntimeCommand {
  /// `run --detach`: creates and starts the container from `bundle`, writing its first
  /// process's pid to `pidFile`. `preserveFDs` passes descriptors 3... to that process.
  public func runArguments(
    containerID: String, bundle: String, pidFile: String, preserveFDs: Int = 0
  ) -> [String] {
    var arguments = globalArguments + ["run", "--detach"]
    if preserveFDs > 0 { arguments += ["--preserve-fds", String(preserveFDs)] }
    return arguments + ["--bundle", bundle, "--pid-file", pidFile, containerID]
  }

  /// `run` in the foreground: the runtime stays attached to the container's first process and
  /// exits with it (no pid file, no detach).
  public func runAttachedArguments(containerID: String, bundle: String) -> [String] {
    globalArguments + ["run", "--bundle", bundle, containerID]
  }
}
