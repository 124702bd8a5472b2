import GRPCCore
import GRPCProtobuf
import NomadProto
import SwiftProtobuf

/// An error a driver returns to Nomad. Its message is what a person reads in
/// `nomad alloc status` (`Driver Failure | rpc error: code = ... desc = <message>`).
public struct DriverError: Error, CustomStringConvertible, Sendable {
  /// The gRPC status code Nomad sees.
  public var code: RPCError.Code
  /// The whole text a person reads.
  public var message: String
  /// Whether Nomad may retry (sent as FailedPrecondition with a RecoverableError detail).
  public var recoverable: Bool

  public init(_ code: RPCError.Code, _ message: String, recoverable: Bool = false) {
    self.code = code
    self.message = message
    self.recoverable = recoverable
  }

  public var description: String { message }

  /// A bad configuration value: says which key, what was expected and what was given.
  public static func invalidArgument(_ message: String) -> DriverError {
    DriverError(.invalidArgument, message)
  }

  /// An unknown task id.
  public static func taskNotFound(_ id: String) -> DriverError {
    DriverError(.notFound, "task not found for given id: \(id)")
  }

  /// The status error sent over the wire. A recoverable error is `FailedPrecondition` with a
  /// `RecoverableError{recoverable: true}` detail, which Nomad turns into a retryable error.
  public var wireError: any Error {
    guard recoverable else { return RPCError(code: code, message: message) }
    var detail = Hashicorp_Nomad_Plugins_Shared_Structs_RecoverableError()
    detail.recoverable = true
    guard let any = try? Google_Protobuf_Any(message: detail) else {
      return RPCError(code: .failedPrecondition, message: message)
    }
    return GoogleRPCStatus(code: .failedPrecondition, message: message, details: [.any(any)])
  }
}

extension Error {
  /// Any error as a gRPC status error (DriverError keeps its code; others are Internal).
  public var asRPCError: any Error {
    if self is RPCError || self is GoogleRPCStatus { return self }
    if let error = self as? DriverError { return error.wireError }
    return RPCError(code: .internalError, message: "\(self)")
  }
}
