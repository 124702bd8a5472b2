import Foundation
import Logging
import Synchronization

/// A swift-log handler that prints agent log lines the way a Nomad agent does
/// (`2024-05-01T10:00:00.000Z [INFO]  client.driver_mgr: message: key=value`), to stderr.
public struct AgentLogHandler: LogHandler {
  public var logLevel: Logger.Level
  public var metadata: Logger.Metadata = [:]
  private let label: String

  public init(label: String, level: Logger.Level) {
    self.label = label
    self.logLevel = level
  }

  public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  private static let lock = Mutex(())

  public func log(event: LogEvent) {
    let level = event.level
    let message = event.message
    var all = metadata
    if let explicit = event.metadata { all.merge(explicit) { $1 } }
    let name: String
    switch level {
    case .trace: name = "[TRACE]"
    case .debug: name = "[DEBUG]"
    case .info, .notice: name = "[INFO] "
    case .warning: name = "[WARN] "
    case .error, .critical: name = "[ERROR]"
    }
    var text =
      "\(Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))) \(name) \(label): \(message)"
    if !all.isEmpty {
      text += ": " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
    text += "\n"
    Self.lock.withLock { _ in FileHandle.standardError.write(Data(text.utf8)) }
  }
}

/// Helpers for the agent log.
public enum AgentLog {
  /// A logger that prints Nomad-style lines to stderr at `level` ("trace" ... "error", "off").
  public static func makeLogger(label: String = "client", level: String) -> Logger {
    let parsed: Logger.Level?
    switch level.lowercased() {
    case "trace": parsed = .trace
    case "debug": parsed = .debug
    case "info": parsed = .info
    case "warn", "warning": parsed = .warning
    case "error": parsed = .error
    default: parsed = nil
    }
    guard let parsed else { return Logger(label: label) { _ in SwiftLogNoOpLogHandler() } }
    return Logger(label: label) { name in AgentLogHandler(label: name, level: parsed) }
  }

  /// A stderr-echo callback for plugin log lines at or above `level`, prefixed with the plugin's
  /// file name like go-plugin's named logger.
  public static func pluginEcho(pluginName: String, level: String) -> (@Sendable (PluginLogLine) -> Void)? {
    let threshold: PluginLogLevel?
    switch level.lowercased() {
    case "off": threshold = nil
    case "warning": threshold = .warn
    default: threshold = PluginLogLevel(hclog: level) ?? .info
    }
    guard let threshold else { return nil }
    return { line in
      guard line.level >= threshold else { return }
      let text = "    \(pluginName): \(line.formatted)\n"
      FileHandle.standardError.write(Data(text.utf8))
    }
  }
}

/// Renders task states like `nomad alloc status`.
public enum StatusFormatter {
  private static func stamp(_ date: Date) -> String { date.formatted(.iso8601) }

  /// One event line: `<time>  <type>  <description>`.
  public static func eventLine(task: String, event: TaskEvent) -> String {
    "\(stamp(event.time))  [\(task)] \(event.type.padding(toLength: 21, withPad: " ", startingAt: 0)) \(event.displayMessage)"
  }

  /// A task's summary and events, newest first (as `nomad alloc status` lists them).
  public static func taskStatus(name: String, state: TaskState) -> String {
    var out = "Task \(goQuote(name)) is \(goQuote(state.state.rawValue))\n"
    out += "Failed = \(state.failed)\nRestarts = \(state.restarts)\n"
    if let code = state.lastExitCode { out += "Exit Code = \(code)\n" }
    if let started = state.startedAt { out += "Started At = \(stamp(started))\n" }
    if let finished = state.finishedAt { out += "Finished At = \(stamp(finished))\n" }
    out += "\nRecent Events:\n"
    let rows = state.events.reversed().map { ($0.time, $0.type, $0.displayMessage) }
    let typeWidth = max(4, rows.map { $0.1.count }.max() ?? 4)
    out +=
      "Time".padding(toLength: 22, withPad: " ", startingAt: 0) + "  "
      + "Type".padding(toLength: typeWidth, withPad: " ", startingAt: 0) + "  Description\n"
    for (date, type, message) in rows {
      out +=
        stamp(date).padding(toLength: 22, withPad: " ", startingAt: 0) + "  "
        + type.padding(toLength: typeWidth, withPad: " ", startingAt: 0) + "  " + message + "\n"
    }
    return out
  }
}
