import ArgumentParser
import Foundation
import NomadHost
import NomadPlugin

/// Options shared by `run` and `recover`: plugins, data dir, logging, output.
struct AgentRunOptions: ParsableArguments {
  @Option(help: "A directory of plugin binaries (every executable is loaded).")
  var pluginDir: String?

  @Option(name: .customLong("plugin"), help: "A plugin binary (repeatable).")
  var plugins: [String] = []

  @Option(
    help: ArgumentHelp(
      "A JSON file of agent plugin blocks: {\"<binary name>\": {\"args\": [...], \"config\": {...}}}.",
      valueName: "file"))
  var pluginConfig: String?

  @Option(help: "The client data dir (allocations live in <data-dir>/alloc).")
  var dataDir: String = "/tmp/nomad-host"

  @Flag(help: "Stream the tasks' stdout to this terminal (like `nomad alloc logs -f`).")
  var follow = false

  @Flag(help: "With --follow, also stream the tasks' stderr (to this process's stderr).")
  var stderr = false

  @Option(help: "Stop the job after this many seconds (for scripted demos).")
  var stopAfter: Double?

  @Option(help: "Agent log level: trace, debug, info, warn, error, off.")
  var logLevel: String = "info"

  @Option(help: "Echo plugin stderr lines at or above this level (off to silence).")
  var pluginLogLevel: String = "info"

  @Flag(help: "Leave the alloc's mounts and network namespace in place at exit (Nomad keeps them until GC).")
  var keepMounts = false

  func pluginSpecs() throws -> [PluginSpec] {
    var blocks: [String: (args: [String], config: [String: MsgpackValue]?)] = [:]
    if let pluginConfig {
      let document = try JSONValue.parse(try String(contentsOfFile: pluginConfig, encoding: .utf8))
      for (name, block) in document.objectValue ?? [] {
        let args = block["args"]?.arrayValue?.compactMap(\.stringValue) ?? []
        var config: [String: MsgpackValue]?
        if let members = block["config"]?.objectValue {
          config = Dictionary(members.map { ($0.0, $0.1.msgpack) }, uniquingKeysWith: { $1 })
        }
        blocks[name] = (args, config)
      }
    }
    var paths = plugins
    if let pluginDir {
      paths += try PluginLoader.scan(directory: pluginDir)
    }
    let specs = paths.map { path in
      let name = URL(fileURLWithPath: path).lastPathComponent
      let block = blocks[name]
      return PluginSpec(path: path, arguments: block?.args ?? [], config: block?.config)
    }
    guard !specs.isEmpty else { throw ValidationError("give --plugin PATH or --plugin-dir DIR") }
    return specs
  }

  /// Starts an agent (the three launches per plugin) and prints the drivers.
  func startAgent() async throws -> NomadAgent {
    let logger = AgentLog.makeLogger(label: "client", level: logLevel)
    var config = ClientConfig(dataDir: dataDir, logger: logger)
    config.pluginLaunch.onStderr = AgentLog.pluginEcho(pluginName: "plugin", level: pluginLogLevel)
    try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
    Console.out("==> Loading plugins (fingerprint, validation and real launches)")
    let agent = NomadAgent(config: config, plugins: try pluginSpecs())
    try await agent.start()
    for (name, manager) in await agent.driverManagers.sorted(by: { $0.key < $1.key }) {
      let plugin = manager.plugin
      Console.out("    driver \(quote(name)) \(plugin.version) (api \(plugin.apiVersion)) from \(plugin.spec.path)")
      if let info = manager.fingerprints.latest {
        let health = info.healthy ? "healthy" : info.detected ? "unhealthy" : "undetected"
        Console.out("    \(health): \(info.healthDescription)")
        for (key, value) in info.attributes.sorted(by: { $0.key < $1.key }) { Console.out("      \(key) = \(value)") }
      }
    }
    return agent
  }

  /// Runs allocations until they finish or a signal / deadline stops them; prints the final
  /// status; shuts the agent down. Throws `ExitCode(1)` when a task failed.
  func supervise(_ allocs: [AllocRunner], agent: NomadAgent, control: ControlServer?, interrupts: InterruptWatcher)
    async throws
  {
    for alloc in allocs {
      Console.out("==> Job \(quote(alloc.job.id)) group \(quote(alloc.group.name)): alloc \(alloc.allocID)")
      Console.out("    alloc dir \(alloc.allocDir.path)")
    }
    var background: [Task<Void, Never>] = []
    for alloc in allocs {
      let stream = alloc.events.subscribe(replayLatest: false)
      background.append(
        Task {
          for await item in stream { Console.out(StatusFormatter.eventLine(task: item.task, event: item.event)) }
        })
    }
    var followers: [Task<Void, Never>] = []
    if follow {
      for alloc in allocs {
        for task in alloc.group.tasks where !task.logs.disabled {
          followers.append(LogFollower.start(logDir: alloc.allocDir.logDir, task: task.name, type: .stdout))
          if stderr {
            followers.append(LogFollower.start(logDir: alloc.allocDir.logDir, task: task.name, type: .stderr))
          }
        }
      }
    }
    let runs = allocs.map { alloc in Task { await alloc.run() } }
    let stopAfter = self.stopAfter
    let stopper = Task {
      let reason = await interrupts.wait(stopAfter: stopAfter)
      guard !Task.isCancelled else { return }
      Console.out("==> \(reason): stopping the job (like `nomad job stop`)")
      for alloc in allocs { _ = await alloc.stop() }
    }
    var finalStates: [(AllocRunner, [String: NomadHost.TaskState])] = []
    for (alloc, run) in zip(allocs, runs) { finalStates.append((alloc, await run.value)) }
    stopper.cancel()
    try? await Task.sleep(for: .milliseconds(400))
    for follower in followers { follower.cancel() }
    for task in background { task.cancel() }

    Console.out("==> Final status")
    var anyFailed = false
    for (alloc, states) in finalStates {
      Console.out("Alloc \(alloc.allocID) (\(alloc.group.name))")
      for (name, state) in states.sorted(by: { $0.key < $1.key }) {
        anyFailed = anyFailed || state.failed
        Console.out(StatusFormatter.taskStatus(name: name, state: state))
      }
    }
    control?.close()
    await agent.shutdown()
    if !keepMounts {
      for alloc in allocs { await alloc.destroy(removeFiles: false) }
    }
    if anyFailed { throw ExitCode(1) }
  }
}
