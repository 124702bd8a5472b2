/// How a task or exec command ended (Go: `drivers.ExitResult`).
public struct ExitResult: Sendable, Equatable {
  public var exitCode: Int32 = 0
  /// The signal that killed it (0: none).
  public var signal: Int32 = 0
  public var oomKilled: Bool = false

  public init(exitCode: Int32 = 0, signal: Int32 = 0, oomKilled: Bool = false) {
    self.exitCode = exitCode
    self.signal = signal
    self.oomKilled = oomKilled
  }
}
