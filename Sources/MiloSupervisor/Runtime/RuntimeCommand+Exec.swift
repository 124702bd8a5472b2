extension RuntimeCommand {
  /// How one `exec` runs its command.
  public struct ExecOptions: Sendable, Equatable {
    /// The runtime writes the command's pid here.
    public var pidFile: String
    /// `uid:gid` inside the container.
    public var user: String
    /// The working directory inside the container.
    public var cwd: String
    /// With a terminal: the unix socket the runtime sends the pty's master to.
    public var consoleSocket: String?

    public init(pidFile: String, user: String, cwd: String = "/", consoleSocket: String? = nil) {
      self.pidFile = pidFile
      self.user = user
      self.cwd = cwd
      self.consoleSocket = consoleSocket
    }
  }

  /// `exec`: runs `command` in the running container, without new privileges.
  public func execArguments(containerID: String, command: [String], options: ExecOptions) -> [String] {
    var arguments =
      globalArguments + [
        "exec", "--pid-file", options.pidFile, "--user", options.user, "--no-new-privs", "--cwd", options.cwd,
      ]
    if let socket = options.consoleSocket { arguments += ["--tty", "--console-socket", socket] }
    return arguments + [containerID] + command
  }
}
