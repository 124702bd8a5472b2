import Foundation

/// A task event (Nomad's `structs.TaskEvent`), with the display message Nomad computes.
public struct TaskEvent: Sendable, Equatable, Codable {
  /// Event type strings (`nomad/structs/structs.go`).
  public enum Kind {
    public static let received = "Received"
    public static let setup = "Task Setup"
    public static let started = "Started"
    public static let terminated = "Terminated"
    public static let killing = "Killing"
    public static let killed = "Killed"
    public static let restarting = "Restarting"
    public static let notRestarting = "Not Restarting"
    public static let driverFailure = "Driver Failure"
    public static let failedValidation = "Failed Validation"
    public static let setupFailure = "Setup Failure"
    public static let downloadingArtifacts = "Downloading Artifacts"
    public static let artifactDownloadFailed = "Failed Artifact Download"
    public static let signaling = "Signaling"
    public static let restartSignal = "Restart Signaled"
    public static let driverMessage = "Driver"
    public static let failedRestoringTask = "Failed Restoring Task"
    public static let hookFailed = "Task hook failed"
    public static let siblingFailed = "Sibling Task Failed"
  }

  public var type: String
  public var time: Date
  /// What `nomad alloc status` shows (`DisplayMessage`).
  public var displayMessage: String
  /// Whether this event fails the task (`FailsTask`).
  public var failsTask: Bool
  public var details: [String: String]
  public var exitCode: Int?
  public var signal: Int?
  public var oomKilled: Bool?
  public var killTimeout: Duration?
  public var restartDelay: Duration?

  public init(
    type: String, displayMessage: String, failsTask: Bool = false, details: [String: String] = [:],
    exitCode: Int? = nil, signal: Int? = nil, oomKilled: Bool? = nil, killTimeout: Duration? = nil,
    restartDelay: Duration? = nil, time: Date = Date()
  ) {
    self.type = type
    self.time = time
    self.displayMessage = displayMessage
    self.failsTask = failsTask
    self.details = details
    self.exitCode = exitCode
    self.signal = signal
    self.oomKilled = oomKilled
    self.killTimeout = killTimeout
    self.restartDelay = restartDelay
  }

  // MARK: Constructors with Nomad's display messages

  public static func received() -> TaskEvent {
    TaskEvent(type: Kind.received, displayMessage: "Task received by client")
  }

  public static func setup(_ message: String) -> TaskEvent {
    TaskEvent(type: Kind.setup, displayMessage: message, details: ["message": message])
  }

  public static func started() -> TaskEvent {
    TaskEvent(type: Kind.started, displayMessage: "Task started by client")
  }

  /// "Exit Code: N[, Signal: S][, Exit Message: "..."]".
  public static func terminated(exitCode: Int, signal: Int, oomKilled: Bool, message: String?) -> TaskEvent {
    var parts = ["Exit Code: \(exitCode)"]
    if signal != 0 { parts.append("Signal: \(signal)") }
    if let message, !message.isEmpty { parts.append("Exit Message: \(goQuote(message))") }
    var details = ["exit_code": "\(exitCode)", "signal": "\(signal)", "oom_killed": "\(oomKilled)"]
    if let message, !message.isEmpty { details["exit_message"] = message }
    return TaskEvent(
      type: Kind.terminated, displayMessage: parts.joined(separator: ", "), details: details, exitCode: exitCode,
      signal: signal, oomKilled: oomKilled)
  }

  /// "Sent interrupt. Waiting 5s before force killing".
  public static func killing(timeout: Duration) -> TaskEvent {
    let text =
      timeout == .zero ? "Sent interrupt" : "Sent interrupt. Waiting \(GoDuration.format(timeout)) before force killing"
    return TaskEvent(
      type: Kind.killing, displayMessage: text, details: ["kill_timeout": GoDuration.format(timeout)],
      killTimeout: timeout)
  }

  public static func killed(error: String? = nil) -> TaskEvent {
    TaskEvent(
      type: Kind.killed, displayMessage: error.flatMap { $0.isEmpty ? nil : $0 } ?? "Task successfully killed",
      details: error.map { ["kill_error": $0] } ?? [:])
  }

  public static func driverFailure(_ error: String) -> TaskEvent {
    TaskEvent(
      type: Kind.driverFailure, displayMessage: error.isEmpty ? "Failed to start task" : error,
      details: ["driver_error": error])
  }

  public static func failedValidation(_ error: String) -> TaskEvent {
    TaskEvent(
      type: Kind.failedValidation, displayMessage: error.isEmpty ? "Validation of task failed" : error,
      details: ["validation_error": error])
  }

  public static func setupFailure(_ error: String) -> TaskEvent {
    TaskEvent(
      type: Kind.setupFailure, displayMessage: error.isEmpty ? "Task setup failed" : error, failsTask: true,
      details: ["setup_error": error])
  }

  public static func notRestarting(reason: String) -> TaskEvent {
    TaskEvent(
      type: Kind.notRestarting, displayMessage: reason.isEmpty ? "Task exceeded restart policy" : reason,
      failsTask: true, details: ["restart_reason": reason])
  }

  /// "Task restarting in 15.2s" or "<reason> - Task restarting in ...".
  public static func restarting(delay: Duration, reason: String) -> TaskEvent {
    let within = "Task restarting in \(GoDuration.format(delay))"
    let text = !reason.isEmpty && reason != RestartTracker.reasonWithinPolicy ? "\(reason) - \(within)" : within
    return TaskEvent(
      type: Kind.restarting, displayMessage: text, details: ["restart_reason": reason, "start_delay": "\(delay)"],
      restartDelay: delay)
  }

  public static func downloadingArtifacts() -> TaskEvent {
    TaskEvent(type: Kind.downloadingArtifacts, displayMessage: "Client is downloading artifacts")
  }

  public static func artifactDownloadFailed(_ error: String) -> TaskEvent {
    TaskEvent(
      type: Kind.artifactDownloadFailed, displayMessage: error.isEmpty ? "Failed to download artifacts" : error,
      details: ["download_error": error])
  }

  public static func signaling(signal: String, reason: String) -> TaskEvent {
    let text: String
    if signal.isEmpty && reason.isEmpty {
      text = "Task being sent a signal"
    } else if signal.isEmpty {
      text = reason
    } else if reason.isEmpty {
      text = "Task being sent signal \(signal)"
    } else {
      text = "Task being sent signal \(signal): \(reason)"
    }
    return TaskEvent(type: Kind.signaling, displayMessage: text, details: ["signal": signal, "reason": reason])
  }

  public static func driverMessage(_ message: String, annotations: [String: String]) -> TaskEvent {
    TaskEvent(type: Kind.driverMessage, displayMessage: message, details: annotations)
  }

  public static func failedRestoringTask() -> TaskEvent {
    TaskEvent(
      type: Kind.failedRestoringTask,
      displayMessage: "failed to restore task; will not run until server is contacted")
  }

  public static func hookFailed(_ message: String) -> TaskEvent {
    TaskEvent(type: Kind.hookFailed, displayMessage: message, details: ["message": message])
  }

  public static func siblingFailed(_ sibling: String) -> TaskEvent {
    TaskEvent(
      type: Kind.siblingFailed,
      displayMessage: sibling.isEmpty ? "Task's sibling failed" : "Task's sibling \(goQuote(sibling)) failed",
      details: ["failed_sibling": sibling])
  }
}

/// A task's lifecycle state (`pending`, `running`, `dead`).
public enum TaskLifecycleState: String, Sendable, Codable {
  case pending, running, dead
}

/// Nomad's `structs.TaskState`.
public struct TaskState: Sendable, Equatable, Codable {
  public var state: TaskLifecycleState = .pending
  /// True once any event with `failsTask` was appended.
  public var failed = false
  public var restarts = 0
  public var lastRestart: Date?
  public var startedAt: Date?
  public var finishedAt: Date?
  public var events: [TaskEvent] = []

  public init() {}

  /// The exit code of the last `Terminated` event, if any.
  public var lastExitCode: Int? { events.last { $0.type == TaskEvent.Kind.terminated }?.exitCode }
}
