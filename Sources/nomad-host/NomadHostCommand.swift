import ArgumentParser

/// The `nomad-host` command line.
struct NomadHostCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "nomad-host",
    abstract: "A Nomad client emulator: loads task driver plugins and runs jobs as Nomad does.",
    discussion: """
      `run` acts as a foreground agent (the three plugin launches, a task runner per task, logmon, \
      Nomad's events) and serves a control socket in its data dir, which `status`, `stats`, \
      `signal` and `exec` talk to. `logs` reads rotated log files like `nomad alloc logs`.
      """,
    subcommands: [
      RunCommand.self, RecoverCommand.self, LogsCommand.self, PluginInfoCommand.self, StatusCommand.self,
      StatsCommand.self,
      SignalCommand.self, ExecCommand.self,
    ])
}
