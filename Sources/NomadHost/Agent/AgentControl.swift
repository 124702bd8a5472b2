import Foundation
import SwiftProtobuf

/// The control-socket operations of a `run` agent: `status`, `signal`, `stats`, `exec`.
///
/// Requests are JSON objects: `{"op":"status"}`, `{"op":"signal","task":"app","signal":"SIGHUP"}`,
/// `{"op":"stats","task":"app","count":3}`, `{"op":"exec","task":"app","command":["ls","/"]}`;
/// an optional `"alloc"` selects an allocation (by ID prefix). Responses are JSON lines; errors
/// are `{"error":"..."}`.
public enum AgentControl {
  /// The default socket path in a data dir.
  public static func socketPath(dataDir: String) -> String { "\(dataDir)/nomad-host.sock" }

  /// Serves `agent` on `path`.
  public static func serve(agent: NomadAgent, path: String) throws -> ControlServer {
    try ControlServer(path: path) { request, reply in
      await handle(request, agent: agent, reply: reply)
    }
  }

  static func handle(_ request: JSONValue, agent: NomadAgent, reply: @escaping @Sendable (String) -> Bool) async {
    func fail(_ message: String) { _ = reply(json(["error": message])) }
    guard let op = request["op"]?.stringValue else { return fail("missing op") }
    var allocs = await agent.allocations
    if let prefix = request["alloc"]?.stringValue {
      allocs = allocs.filter { $0.allocID.hasPrefix(prefix) }
    }
    switch op {
    case "status":
      for alloc in allocs {
        for (name, runner) in await alloc.taskRunners.sorted(by: { $0.key < $1.key }) {
          let state = await runner.taskState
          let encoder = JSONEncoder()
          encoder.dateEncodingStrategy = .iso8601
          encoder.outputFormatting = [.sortedKeys]
          let stateJSON = (try? encoder.encode(state)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
          _ = reply(
            "{\"alloc\":\(quoteJSON(alloc.allocID)),\"job\":\(quoteJSON(alloc.job.id)),\"group\":\(quoteJSON(alloc.group.name)),\"task\":\(quoteJSON(name)),\"state\":\(stateJSON)}"
          )
        }
      }
    case "signal", "stats", "exec":
      guard let task = request["task"]?.stringValue else { return fail("missing task") }
      var found: TaskRunner?
      for alloc in allocs {
        if let runner = await alloc.runner(for: task) {
          found = runner
          break
        }
      }
      guard let runner = found else { return fail("unknown task name \(goQuote(task))") }
      do {
        switch op {
        case "signal":
          try await runner.signal(request["signal"]?.stringValue ?? "SIGINT", reason: "")
          _ = reply(json(["ok": "true"]))
        case "stats":
          let limit = request["count"]?.int64Value ?? 0
          var sent: Int64 = 0
          for try await stats in try await runner.stats() {
            let text = (try? stats.jsonString()) ?? "{}"
            guard reply(text) else { break }
            sent += 1
            if limit > 0 && sent >= limit { break }
          }
        default:
          let command = request["command"]?.arrayValue?.compactMap(\.stringValue) ?? []
          let response = try await runner.exec(command)
          _ = reply(
            "{\"exit_code\":\(response.result.exitCode),\"signal\":\(response.result.signal),\"stdout\":\(quoteJSON(String(decoding: response.stdout, as: UTF8.self))),\"stderr\":\(quoteJSON(String(decoding: response.stderr, as: UTF8.self)))}"
          )
        }
      } catch {
        fail("\(error)")
      }
    default:
      fail("unknown op \(goQuote(op))")
    }
  }

  static func json(_ object: [String: String]) -> String {
    "{" + object.sorted { $0.key < $1.key }.map { "\(quoteJSON($0.key)):\(quoteJSON($0.value))" }.joined(separator: ",")
      + "}"
  }

  /// A JSON string literal.
  public static func quoteJSON(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if scalar.value < 0x20 {
          out += String(format: "\\u%04x", scalar.value)
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out + "\""
  }
}
