import GRPCCore

/// An error from a call into a plugin, rendered the way Nomad shows it to people.
public enum PluginCallError: Error, CustomStringConvertible, Sendable, Equatable {
  /// A gRPC status error: "rpc error: code = <Code> desc = <message>". `recoverable` is the
  /// `RecoverableError` detail, if the plugin attached one.
  case rpc(code: RPCError.Code, message: String, recoverable: Bool?)
  /// The plugin process exited (Nomad's `ErrPluginShutdown`, "plugin is shut down").
  case pluginShutdown
  /// Any other failure (transport errors, cancellation...).
  case other(String)

  public var description: String {
    switch self {
    case .rpc(let code, let message, _):
      return "rpc error: code = \(Self.goCodeName(code)) desc = \(message)"
    case .pluginShutdown:
      return "plugin is shut down"
    case .other(let text):
      return text
    }
  }

  /// The gRPC status code, if any.
  public var code: RPCError.Code? {
    if case .rpc(let code, _, _) = self { return code }
    return nil
  }

  /// Whether Nomad would treat this start error as recoverable: a `FailedPrecondition` whose first
  /// detail is `RecoverableError{recoverable: true}`.
  public var isRecoverable: Bool {
    if case .rpc(let code, _, let recoverable) = self, code == .failedPrecondition {
      return recoverable == true
    }
    return false
  }

  /// True for `Unimplemented`.
  public var isUnimplemented: Bool { code == .unimplemented }

  /// grpc-go's `codes.Code.String()` names.
  public static func goCodeName(_ code: RPCError.Code) -> String {
    switch code {
    case .cancelled: return "Canceled"
    case .unknown: return "Unknown"
    case .invalidArgument: return "InvalidArgument"
    case .deadlineExceeded: return "DeadlineExceeded"
    case .notFound: return "NotFound"
    case .alreadyExists: return "AlreadyExists"
    case .permissionDenied: return "PermissionDenied"
    case .resourceExhausted: return "ResourceExhausted"
    case .failedPrecondition: return "FailedPrecondition"
    case .aborted: return "Aborted"
    case .outOfRange: return "OutOfRange"
    case .unimplemented: return "Unimplemented"
    case .internalError: return "Internal"
    case .unavailable: return "Unavailable"
    case .dataLoss: return "DataLoss"
    case .unauthenticated: return "Unauthenticated"
    default: return "Code(\(code.rawValue))"
    }
  }

  /// Maps a thrown error; `RecoverableError` details are read from the status trailer.
  static func from(_ error: any Error) -> PluginCallError {
    if let error = error as? PluginCallError { return error }
    if let rpc = error as? RPCError {
      let recoverable = StatusDetails.recoverable(in: rpc.metadata)
      return .rpc(code: rpc.code, message: rpc.message, recoverable: recoverable)
    }
    if error is CancellationError { return .other("context canceled") }
    return .other("\(error)")
  }
}

/// Reads `grpc-status-details-bin` (a `google.rpc.Status`) for Nomad's `RecoverableError`
/// detail without a dependency on the well-known types.
enum StatusDetails {
  static let recoverableTypeSuffix = "hashicorp.nomad.plugins.shared.structs.RecoverableError"

  /// The `recoverable` flag of the first detail when it is a RecoverableError, else nil.
  static func recoverable(in metadata: Metadata) -> Bool? {
    guard let bytes = metadata[binaryValues: "grpc-status-details-bin"].first(where: { _ in true })
    else { return nil }
    return recoverable(statusBytes: bytes)
  }

  /// Parses a serialized google.rpc.Status.
  static func recoverable(statusBytes: [UInt8]) -> Bool? {
    // Status: 3 = repeated Any details. Nomad looks at the first detail only.
    guard let firstDetail = ProtoWire.fields(statusBytes).first(where: { $0.number == 3 })?.bytes
    else { return nil }
    let anyFields = ProtoWire.fields(firstDetail)
    guard let typeURL = anyFields.first(where: { $0.number == 1 })?.bytes,
      String(decoding: typeURL, as: UTF8.self).hasSuffix(recoverableTypeSuffix)
    else { return nil }
    let value = anyFields.first(where: { $0.number == 2 })?.bytes ?? []
    // RecoverableError: 1 = bool recoverable.
    let flag = ProtoWire.fields(value).last(where: { $0.number == 1 })?.varint ?? 0
    return flag != 0
  }
}

/// A minimal protobuf wire-format reader (varint and length-delimited fields).
enum ProtoWire {
  struct Field {
    var number: Int
    var varint: UInt64?
    var bytes: [UInt8]?
  }

  static func fields(_ data: [UInt8]) -> [Field] {
    var result: [Field] = []
    var index = 0
    func readVarint() -> UInt64? {
      var value: UInt64 = 0
      var shift: UInt64 = 0
      while index < data.count && shift < 64 {
        let byte = data[index]
        index += 1
        value |= UInt64(byte & 0x7f) << shift
        if byte & 0x80 == 0 { return value }
        shift += 7
      }
      return nil
    }
    while index < data.count {
      guard let key = readVarint() else { break }
      let number = Int(key >> 3)
      switch key & 7 {
      case 0:
        guard let value = readVarint() else { return result }
        result.append(Field(number: number, varint: value, bytes: nil))
      case 1:
        index += 8
      case 2:
        guard let length = readVarint(), index + Int(length) <= data.count else { return result }
        result.append(Field(number: number, varint: nil, bytes: Array(data[index..<index + Int(length)])))
        index += Int(length)
      case 5:
        index += 4
      default:
        return result
      }
    }
    return result
  }
}
