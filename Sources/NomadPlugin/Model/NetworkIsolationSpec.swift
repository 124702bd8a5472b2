/// The network namespace a task joins (Go: `drivers.NetworkIsolationSpec`).
public struct NetworkIsolationSpec: Sendable, Equatable {
  public enum Mode: Sendable, Equatable { case host, group, task, none }

  public var mode: Mode = .host
  /// The namespace's path, e.g. `/var/run/netns/<alloc id>`.
  public var path: String = ""
  public var labels: [String: String] = [:]

  public init(mode: Mode = .host, path: String = "", labels: [String: String] = [:]) {
    self.mode = mode
    self.path = path
    self.labels = labels
  }
}

/// What a driver tells Nomad about the task's network (Go: `drivers.DriverNetwork`).
public struct NetworkOverride: Sendable, Equatable {
  public var portMap: [String: Int32] = [:]
  public var address: String = ""
  public var autoAdvertise: Bool = false

  public init() {}
}
