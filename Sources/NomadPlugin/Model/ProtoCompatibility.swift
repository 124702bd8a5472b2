/// Transitional names for code written against the generated protocol types: each now names
/// the SDK's model type. Use the model names (`TaskConfig`, `ExitResult`, ...) in new code;
/// this namespace goes away once no caller uses it.
public enum Proto {
  public typealias TaskConfig = NomadPlugin.TaskConfig
  public typealias Mount = NomadPlugin.Mount
  public typealias Device = NomadPlugin.Device
  public typealias TaskHandle = NomadPlugin.TaskHandle
  public typealias TaskStatus = NomadPlugin.TaskStatus
  public typealias ExitResult = NomadPlugin.ExitResult
  public typealias Capabilities = NomadPlugin.DriverCapabilities
  public typealias Fingerprint = NomadPlugin.Fingerprint
  public typealias TaskEvent = NomadPlugin.DriverTaskEvent
  public typealias NetworkOverride = NomadPlugin.NetworkOverride
  public typealias TaskStats = NomadPlugin.TaskStats
  public typealias ResourceUsage = NomadPlugin.ResourceUsage
  public typealias MemoryUsage = NomadPlugin.MemoryUsage
  public typealias CPUUsage = NomadPlugin.CPUUsage
  public typealias Attribute = NomadPlugin.Attribute
  public typealias AgentConfig = NomadPlugin.AgentConfig
}

extension TaskConfig {
  /// Transitional: whether Nomad sent any resources.
  public var hasResources: Bool { resources != Resources() }
  /// Transitional: whether the task joins a network namespace spec.
  public var hasNetworkIsolationSpec: Bool { networkIsolation != nil }
  /// Transitional: the network isolation spec, or the default (host) one.
  public var networkIsolationSpec: NetworkIsolationSpec {
    get { networkIsolation ?? NetworkIsolationSpec() }
    set { networkIsolation = newValue }
  }
}

extension Attribute {
  /// Transitional name of `Attribute.Value`.
  public typealias OneOf_Value = Value
}

extension Attribute.Value {
  /// Transitional spellings of the cases.
  public static func boolVal(_ value: Bool) -> Self { .bool(value) }
  public static func stringVal(_ value: String) -> Self { .string(value) }
  public static func intVal(_ value: Int64) -> Self { .int(value) }
  public static func floatVal(_ value: Double) -> Self { .float(value) }
}

extension Timestamp {
  /// The timestamp `nanoseconds` after the Unix epoch.
  public init(nanoseconds: Int64) {
    self.init(seconds: nanoseconds / 1_000_000_000, nanos: Int32(nanoseconds % 1_000_000_000))
  }
}
