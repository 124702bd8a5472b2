import ArgumentParser
import Foundation
import NomadHost

/// Options shared by the commands that talk to a running `nomad-host run` agent.
struct AgentOptions: ParsableArguments {
  @Option(help: "The data dir of the running `nomad-host run` agent.")
  var dataDir: String = "/tmp/nomad-host"

  @Option(help: "Restrict to an alloc ID prefix.")
  var alloc: String?

  var socket: String { AgentControl.socketPath(dataDir: dataDir) }

  func request(_ fields: [String: String], extra: String = "") -> String {
    var members = fields.map { "\(AgentControl.quoteJSON($0.key)):\(AgentControl.quoteJSON($0.value))" }
    if let alloc { members.append("\"alloc\":\(AgentControl.quoteJSON(alloc))") }
    if !extra.isEmpty { members.append(extra) }
    return "{" + members.joined(separator: ",") + "}"
  }

  /// Sends a request and prints every response line; fails on an `error` line.
  func send(_ request: String, print line: (String) -> Void = { Console.out($0) }) async throws {
    for try await response in ControlClient.request(path: socket, request) {
      if let parsed = try? JSONValue.parse(response), let error = parsed["error"]?.stringValue {
        Console.err(error)
        throw ExitCode(1)
      }
      line(response)
    }
  }
}

/// `nomad-host status`.
struct StatusCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "status", abstract: "Show the task states of a running agent.")
  @OptionGroup var agent: AgentOptions
  @Flag(help: "Print raw JSON lines.") var json = false

  func run() async throws {
    try await agent.send(agent.request(["op": "status"])) { line in
      guard !json, let value = try? JSONValue.parse(line), let task = value["task"]?.stringValue,
        let alloc = value["alloc"]?.stringValue, let state = value["state"]
      else { return Console.out(line) }
      Console.out(
        "Alloc \(alloc) task \(task): \(state["state"]?.stringValue ?? "?") failed=\(state["failed"]?.boolValue ?? false) restarts=\(state["restarts"]?.int64Value ?? 0)"
      )
      for event in (state["events"]?.arrayValue ?? []).suffix(10) {
        Console.out("  \(event["type"]?.stringValue ?? "")  \(event["displayMessage"]?.stringValue ?? "")")
      }
    }
  }
}

/// `nomad-host stats <task>`.
struct StatsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "stats", abstract: "Stream TaskStats (JSON lines) from a running agent.")
  @OptionGroup var agent: AgentOptions
  @Argument(help: "The task name.") var task: String
  @Option(help: "Stop after this many samples (0 = until interrupted).") var count: Int = 1

  func run() async throws {
    try await agent.send(agent.request(["op": "stats", "task": task], extra: "\"count\":\(count)"))
  }
}

/// `nomad-host signal <task> <signal>`.
struct SignalCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "signal", abstract: "Send a signal to a task (like `nomad alloc signal`).")
  @OptionGroup var agent: AgentOptions
  @Argument(help: "The task name.") var task: String
  @Argument(help: "The signal name, e.g. SIGHUP.") var signal: String = "SIGINT"

  func run() async throws {
    try await agent.send(agent.request(["op": "signal", "task": task, "signal": signal]))
  }
}

/// `nomad-host exec <task> -- <command...>`.
struct ExecCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "exec",
    abstract: "Run a command in a task with ExecTask (non-interactive; `nomad alloc exec` uses the streaming form).")
  @OptionGroup var agent: AgentOptions
  @Argument(help: "The task name.") var task: String
  @Argument(parsing: .captureForPassthrough, help: "The command.") var command: [String] = []

  func run() async throws {
    let args = command.first == "--" ? Array(command.dropFirst()) : command
    let list = "[" + args.map(AgentControl.quoteJSON).joined(separator: ",") + "]"
    var exitCode: Int32 = 0
    try await agent.send(agent.request(["op": "exec", "task": task], extra: "\"command\":\(list)")) { line in
      guard let value = try? JSONValue.parse(line) else { return Console.out(line) }
      if let out = value["stdout"]?.stringValue { Console.write(Data(out.utf8), to: .standardOutput) }
      if let err = value["stderr"]?.stringValue { Console.write(Data(err.utf8), to: .standardError) }
      exitCode = Int32(value["exit_code"]?.int64Value ?? 0)
    }
    if exitCode != 0 { throw ExitCode(exitCode) }
  }
}
