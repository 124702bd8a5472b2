import GRPCCore
import GRPCProtobuf
import NomadProto
import SwiftProtobuf

extension DriverError.Code {
  /// The gRPC status code Nomad sees.
  var rpcCode: RPCError.Code {
    switch self {
    case .invalidArgument: .invalidArgument
    case .failedPrecondition: .failedPrecondition
    case .notFound: .notFound
    case .alreadyExists: .alreadyExists
    case .deadlineExceeded: .deadlineExceeded
    case .unimplemented: .unimplemented
    case .internalError: .internalError
    }
  }
}

extension DriverError {
  /// The status error sent over the wire. A recoverable error is `FailedPrecondition` with a
  /// `RecoverableError{recoverable: true}` detail, which Nomad turns into a retryable error.
  var wireError: any Error {
    guard recoverable else { return RPCError(code: code.rpcCode, message: message) }
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
  var asRPCError: any Error {
    if self is RPCError || self is GoogleRPCStatus { return self }
    if let error = self as? DriverError { return error.wireError }
    return RPCError(code: .internalError, message: "\(self)")
  }
}
