import ArgumentParser
import Dispatch
import Foundation
import NomadHost
import NomadPlugin

/// `nomad-host run <job.json>`: a foreground agent running one job.
struct RunCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run",
    abstract: "Load driver plugins like a Nomad agent and run a JSON job until Ctrl-C.",
    discussion: """
      The job file uses Nomad's JSON job format (see JobFile in NomadHost): \
      {"Job": {"ID": ..., "TaskGroups": [{"Name": ..., "Tasks": [{"Name": ..., "Driver": ..., \
      "Config": {...}, "Artifacts": [{"GetterSource": "/local/path"}], "Env": {...}, \
      "Resources": {"CPU": 500, "MemoryMB": 256}, "KillTimeout": "5s", "KillSignal": "SIGTERM", \
      "LogConfig": {"MaxFiles": 10, "MaxFileSizeMB": 10}}]}]}}.
      Ctrl-C (SIGINT) or SIGTERM stops the job like `nomad job stop` and prints the final status. \
      The exit status is 1 when a task failed.
      """)

  @Argument(help: "The JSON job file.")
  var job: String

  @OptionGroup var options: AgentRunOptions

  func run() async throws {
    let interrupts = InterruptWatcher.ignoringTerminationSignals()
    let jobText = try String(contentsOfFile: job, encoding: .utf8)
    let jobSpec = try JobFile.parse(jobText)
    let agent = try await options.startAgent()
    let control = try? AgentControl.serve(agent: agent, path: AgentControl.socketPath(dataDir: options.dataDir))
    let allocs: [AllocRunner]
    do {
      allocs = try await agent.submit(jobSpec, jobJSON: jobText)
    } catch {
      control?.close()
      await agent.shutdown()
      throw error
    }
    try await options.supervise(allocs, agent: agent, control: control, interrupts: interrupts)
  }
}

/// `nomad-host recover`: a restarted agent recovering the allocations in its data dir.
struct RecoverCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "recover",
    abstract: "Restart the agent on a data dir: recover running tasks with RecoverTask and keep supervising them.",
    discussion: """
      Every alloc under <data-dir>/alloc written by an earlier `run` is restored: running tasks \
      are recovered from their stored handles (a failed recovery emits "Failed Restoring Task" \
      and starts the task again), logmon reopens the FIFOs, and the job is supervised as by `run`.
      """)

  @OptionGroup var options: AgentRunOptions

  func run() async throws {
    let interrupts = InterruptWatcher.ignoringTerminationSignals()
    let agent = try await options.startAgent()
    let control = try? AgentControl.serve(agent: agent, path: AgentControl.socketPath(dataDir: options.dataDir))
    let allocs = await agent.restoreAllocations()
    guard !allocs.isEmpty else {
      control?.close()
      await agent.shutdown()
      Console.err("no allocations to recover in \(options.dataDir)/alloc")
      throw ExitCode(1)
    }
    try await options.supervise(allocs, agent: agent, control: control, interrupts: interrupts)
  }
}

func quote(_ text: String) -> String { "\"\(text)\"" }
