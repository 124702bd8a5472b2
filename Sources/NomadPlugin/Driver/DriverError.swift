/// An error a driver returns to Nomad. Its message is what a person reads in
/// `nomad alloc status` (`Driver Failure | rpc error: code = ... desc = <message>`).
public struct DriverError: Error, CustomStringConvertible, Sendable {
  /// What kind of failure this is; decides the gRPC status code Nomad sees.
  public enum Code: Sendable, Equatable {
    /// A bad input: the job's or the operator's configuration.
    case invalidArgument
    /// The host or the task is not in a state where the call can work (e.g. not root, no
    /// runtime, the task is not running).
    case failedPrecondition
    case notFound
    case alreadyExists
    case deadlineExceeded
    case unimplemented
    case internalError
  }

  public var code: Code
  /// The whole text a person reads.
  public var message: String
  /// Whether Nomad may retry (sent as FailedPrecondition with a RecoverableError detail).
  public var recoverable: Bool

  public init(_ code: Code, _ message: String, recoverable: Bool = false) {
    self.code = code
    self.message = message
    self.recoverable = recoverable
  }

  public var description: String { message }

  /// A bad configuration value: says which key, what was expected and what was given.
  public static func invalidArgument(_ message: String) -> DriverError {
    DriverError(.invalidArgument, message)
  }

  /// A problem with the host the driver runs on (not root, no runtime): Nomad reports it as
  /// FailedPrecondition, as the same task would start on a host without the problem.
  public static func hostProblem(_ message: String) -> DriverError {
    DriverError(.failedPrecondition, message)
  }

  /// An unknown task id.
  public static func taskNotFound(_ id: String) -> DriverError {
    DriverError(.notFound, "task not found for given id: \(id)")
  }
}
