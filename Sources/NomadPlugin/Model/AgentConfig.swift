/// The Nomad agent settings a driver receives with its config (Go: `base.AgentConfig`).
public struct AgentConfig: Sendable, Equatable {
  /// The client's dynamic port range (0: not sent).
  public var clientMinPort: UInt32 = 0
  public var clientMaxPort: UInt32 = 0

  public init() {}
}
