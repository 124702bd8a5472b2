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
    commandName: "stats",
    abstract: "Stream a task's TaskStats from a running agent (like `nomad alloc status -stats`).",
    discussion: """
      Prints one line per sample: CPU (percent of one core, user and system, MHz of the node's \
      compute, throttling) and memory (RSS, cache, usage, max usage, swap), each only when the \
      driver measured it. --json prints the raw TaskStats messages instead.
      """)
  @OptionGroup var agent: AgentOptions
  @Argument(help: "The task name.") var task: String
  @Option(help: "Stop after this many samples (0 = until interrupted).") var count: Int = 1
  @Option(help: "Milliseconds between samples (default: the client's stats interval, 1 s).") var intervalMs: Int = 0
  @Flag(help: "Print raw JSON lines.") var json = false

  func run() async throws {
    var extra = "\"count\":\(count)"
    if intervalMs > 0 { extra += ",\"interval_ms\":\(intervalMs)" }
    try await agent.send(agent.request(["op": "stats", "task": task], extra: extra)) { line in
      guard !json, let value = try? JSONValue.parse(line) else { return Console.out(line) }
      Console.out(StatsFormatter.line(value))
    }
  }
}

/// Human-readable TaskStats lines.
enum StatsFormatter {
  static func line(_ stats: JSONValue) -> String {
    let usage = stats["aggResourceUsage"]
    let cpu = usage?["cpu"]
    let memory = usage?["memory"]
    let cpuFields = Set((cpu?["measuredFields"]?.arrayValue ?? []).compactMap(\.stringValue))
    let memoryFields = Set((memory?["measuredFields"]?.arrayValue ?? []).compactMap(\.stringValue))
    func double(_ value: JSONValue?, _ key: String) -> Double { value?[key]?.doubleValue ?? 0 }
    func bytes(_ key: String) -> UInt64 {
      // proto3 JSON encodes uint64 as strings.
      if let text = memory?[key]?.stringValue { return UInt64(text) ?? 0 }
      return UInt64(memory?[key]?.int64Value ?? 0)
    }
    func mib(_ key: String) -> String { String(format: "%.1f MiB", Double(bytes(key)) / 1_048_576) }
    var parts: [String] = [stats["timestamp"]?.stringValue ?? ""]
    var cpuParts: [String] = []
    if cpuFields.contains("PERCENT") { cpuParts.append(String(format: "%.1f%%", double(cpu, "percent"))) }
    if cpuFields.contains("USER_MODE") { cpuParts.append(String(format: "user %.1f%%", double(cpu, "userMode"))) }
    if cpuFields.contains("SYSTEM_MODE") {
      cpuParts.append(String(format: "system %.1f%%", double(cpu, "systemMode")))
    }
    if cpuFields.contains("TOTAL_TICKS") { cpuParts.append(String(format: "%.0f MHz", double(cpu, "totalTicks"))) }
    if cpuFields.contains("THROTTLED_PERIODS") {
      let periods = cpu?["throttledPeriods"]?.stringValue ?? "0"
      let nanos = Double(cpu?["throttledTime"]?.stringValue ?? "0") ?? 0
      cpuParts.append(String(format: "throttled %@ periods (%.3f s)", periods, nanos / 1e9))
    }
    parts.append("cpu: " + (cpuParts.isEmpty ? "-" : cpuParts.joined(separator: ", ")))
    let names: [(String, String, String)] = [
      ("RSS", "rss", "rss"), ("CACHE", "cache", "cache"), ("USAGE", "usage", "usage"),
      ("MAX_USAGE", "maxUsage", "max usage"), ("KERNEL_USAGE", "kernelUsage", "kernel"),
      ("SWAP", "swap", "swap"),
    ]
    let memoryParts = names.filter { memoryFields.contains($0.0) }.map { "\($0.2) \(mib($0.1))" }
    parts.append("memory: " + (memoryParts.isEmpty ? "-" : memoryParts.joined(separator: ", ")))
    return parts.joined(separator: "  ")
  }
}

/// `nomad-host signal <task> <signal>`.
struct SignalCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "signal", abstract: "Send a signal to a task (like `nomad alloc signal -s SIG task`).")
  @OptionGroup var agent: AgentOptions
  @Argument(help: "The task name.") var task: String
  @Argument(help: "The signal name, e.g. SIGHUP.") var signal: String = "SIGINT"

  func run() async throws {
    try await agent.send(agent.request(["op": "signal", "task": task, "signal": signal])) { line in
      if let value = try? JSONValue.parse(line), value["ok"] != nil {
        Console.out("Sent \(signal) to task \(task)")
      } else {
        Console.out(line)
      }
    }
  }
}
