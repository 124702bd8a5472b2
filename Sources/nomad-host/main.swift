// nomad-host: a Nomad client emulator for driver plugins. See NomadHostCommand.
import ArgumentParser

/// Runs an async root command (main.swift cannot use `@main`).
func launch<Command: AsyncParsableCommand>(_ command: Command.Type) async {
  await command.main(nil)
}

await launch(NomadHostCommand.self)
