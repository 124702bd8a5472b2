import Foundation

/// A message about a task shown in `nomad alloc status` (Go: `drivers.TaskEvent`).
public struct DriverTaskEvent: Sendable, Equatable {
  public var taskID: String = ""
  public var allocID: String = ""
  public var taskName: String = ""
  public var timestamp = Date(timeIntervalSince1970: 0)
  public var message: String = ""
  public var annotations: [String: String] = [:]

  public init() {}
}
