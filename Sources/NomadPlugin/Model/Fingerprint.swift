/// The driver's health and node attributes (Go: `drivers.Fingerprint`).
public struct Fingerprint: Sendable, Equatable {
  public enum Health: Sendable, Equatable { case undetected, unhealthy, healthy }

  public var health: Health = .undetected
  /// Why the driver is (un)healthy, shown on the node.
  public var healthDescription: String = ""
  /// `driver.<name>.*` node attributes.
  public var attributes: [String: Attribute] = [:]

  public init() {}
}

/// A node attribute value (Go: `structs.Attribute`).
public struct Attribute: Sendable, Equatable {
  public enum Value: Sendable, Equatable {
    case float(Double), int(Int64), string(String), bool(Bool)
  }
  public var value: Value?
  /// A unit such as `MiB` (empty: none).
  public var unit: String = ""

  public init(_ value: Value? = nil, unit: String = "") {
    self.value = value
    self.unit = unit
  }
}
