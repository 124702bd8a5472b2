import Foundation
import NomadPlugin
import SwiftProtobuf

/// The control-socket operations of a `run` agent: `status`, `signal`, `stats`, `exec`.
///
/// Requests are JSON objects: `{"op":"status"}`, `{"op":"signal","task":"app","signal":"SIGHUP"}`,
/// `{"op":"stats","task":"app","count":3,"interval_ms":500}`,
/// `{"op":"exec","task":"app","command":["ls","/"],"timeout_ms":30000}` (ExecTask);
/// an optional `"alloc"` selects an allocation (by ID prefix). Responses are JSON lines; errors
/// are `{"error":"..."}`.
///
/// Interactive exec (ExecTaskStreaming, like `nomad alloc exec`):
/// `{"op":"exec","interactive":true,"tty":true,"task":"app","command":["/bin/sh"],"width":80,"height":24}`,
/// then the client sends lines `{"stdin":"<base64>"}`, `{"stdin_close":true}` and
/// `{"resize":{"width":W,"height":H}}`, and receives `{"stdout":"<base64>"}`,
/// `{"stderr":"<base64>"}` and finally `{"exit_code":N,"signal":S}` (or `{"error":...}`).
/// Closing the connection ends the session (the command is killed).
public enum AgentControl {
  /// The default socket path in a data dir.
  public static func socketPath(dataDir: String) -> String { "\(dataDir)/nomad-host.sock" }

  /// Serves `agent` on `path`.
  public static func serve(agent: NomadAgent, path: String) throws -> ControlServer {
    try ControlServer(
      path: path,
      streamingHandler: { request, input, reply in
        await handle(request, agent: agent, input: input, reply: reply)
      })
  }

  static func handle(
    _ request: JSONValue, agent: NomadAgent, input: AsyncStream<String> = AsyncStream { $0.finish() },
    reply: @escaping @Sendable (String) -> Bool
  ) async {
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
          let interval = request["interval_ms"]?.int64Value.flatMap { $0 > 0 ? Duration.milliseconds($0) : nil }
          var sent: Int64 = 0
          for try await stats in try await runner.stats(interval: interval) {
            let text = (try? stats.jsonString()) ?? "{}"
            guard reply(text) else { break }
            sent += 1
            if limit > 0 && sent >= limit { break }
          }
        case "exec" where request["interactive"]?.boolValue == true:
          await interactiveExec(request, runner: runner, input: input, reply: reply)
        default:
          let command = request["command"]?.arrayValue?.compactMap(\.stringValue) ?? []
          let timeout = request["timeout_ms"]?.int64Value.flatMap { $0 > 0 ? Duration.milliseconds($0) : nil }
          let response = try await runner.exec(command, timeout: timeout ?? .seconds(30))
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

  /// ExecTaskStreaming between a control connection and a task. The session ends when the
  /// command exits, or (killing the command) when the client closes the connection.
  static func interactiveExec(
    _ request: JSONValue, runner: TaskRunner, input: AsyncStream<String>,
    reply: @escaping @Sendable (String) -> Bool
  ) async {
    let command = request["command"]?.arrayValue?.compactMap(\.stringValue) ?? []
    let tty = request["tty"]?.boolValue ?? false
    let (stream, sink) = AsyncStream.makeStream(of: ExecStreamInput.self)
    if let width = request["width"]?.int64Value, let height = request["height"]?.int64Value {
      sink.yield(.resize(width: Int32(clamping: width), height: Int32(clamping: height)))
    }
    let session = Task {
      try await runner.execStreaming(command, tty: tty, input: stream) { output in
        let line: String
        switch output {
        case .stdout(let bytes): line = "{\"stdout\":\"\(Data(bytes).base64EncodedString())\"}"
        case .stderr(let bytes): line = "{\"stderr\":\"\(Data(bytes).base64EncodedString())\"}"
        case .stdoutClosed, .stderrClosed: return
        }
        if !reply(line) { sink.finish() }
      }
    }
    // The client's lines; the end of the connection cancels the session.
    let reader = Task {
      for await line in input {
        guard let message = try? JSONValue.parse(line) else { continue }
        if let data = message["stdin"]?.stringValue, let bytes = Data(base64Encoded: data) {
          sink.yield(.stdin([UInt8](bytes)))
        }
        if message["stdin_close"]?.boolValue == true { sink.yield(.closeStdin) }
        if let size = message["resize"], let width = size["width"]?.int64Value,
          let height = size["height"]?.int64Value
        {
          sink.yield(.resize(width: Int32(clamping: width), height: Int32(clamping: height)))
        }
      }
      if !Task.isCancelled { session.cancel() }
    }
    do {
      let result = try await session.value
      _ = reply("{\"exit_code\":\(result.exitCode),\"signal\":\(result.signal)}")
    } catch {
      _ = reply(json(["error": "\(error)"]))
    }
    reader.cancel()
    sink.finish()
  }

  static func json(_ object: [String: String]) -> String {
    "{" + object.sorted { $0.key < $1.key }.map { "\(quoteJSON($0.key)):\(quoteJSON($0.value))" }.joined(separator: ",")
      + "}"
  }

  /// A JSON string literal.
  public static func quoteJSON(_ text: String) -> String {
    StringQuoting.quoted(text, .json)
  }
}
