/// A point in time as Nomad sends it: seconds and nanoseconds since the Unix epoch.
public struct Timestamp: Sendable, Equatable {
  public var seconds: Int64
  public var nanos: Int32

  public init(seconds: Int64, nanos: Int32) {
    self.seconds = seconds
    self.nanos = nanos
  }

  /// The timestamp `nanoseconds` after the Unix epoch.
  public init(nanoseconds: Int64) {
    self.init(seconds: nanoseconds / 1_000_000_000, nanos: Int32(nanoseconds % 1_000_000_000))
  }
}

/// What `InspectTask` answers (Go: `drivers.TaskStatus`).
public struct TaskStatus: Sendable, Equatable {
  public var id: String = ""
  public var name: String = ""
  public var state: TaskState = .unknown
  public var startedAt: Timestamp?
  public var completedAt: Timestamp?
  /// The exit, once the task has exited.
  public var result: ExitResult?

  public init() {}
}
