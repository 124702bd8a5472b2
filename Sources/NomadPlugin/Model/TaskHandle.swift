/// What Nomad stores about a started task and hands back in `recoverTask` (Go: `drivers.TaskHandle`).
public struct TaskHandle: Sendable, Equatable {
  /// The version of `driverState`'s format.
  public var version: Int32 = 0
  public var config = TaskConfig()
  public var state: TaskState = .unknown
  /// The driver's own state, opaque to Nomad.
  public var driverState: [UInt8] = []

  public init(
    version: Int32 = 0, config: TaskConfig = TaskConfig(), state: TaskState = .unknown, driverState: [UInt8] = []
  ) {
    self.version = version
    self.config = config
    self.state = state
    self.driverState = driverState
  }
}
