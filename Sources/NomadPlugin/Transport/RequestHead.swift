import GRPCCore
import NIOHPACK

/// The opening HEADERS of a gRPC request: which method it calls and with what metadata, or why
/// the server refuses it before any handler runs.
struct RequestHead {
  let method: MethodDescriptor
  let metadata: Metadata

  /// A request refused by the transport, answered with a trailers-only response.
  struct Refusal: Error {
    /// The HTTP status; gRPC errors proper use 200 and carry `status`.
    var httpStatus = "200"
    var status: Status
  }

  /// Reads a request's headers, accepting only uncompressed gRPC POSTs to `/service/method`.
  static func parse(_ headers: HPACKHeaders) -> Result<RequestHead, Refusal> {
    guard let contentType = headers.first(name: "content-type"), contentType.hasPrefix("application/grpc")
    else {
      return .failure(
        Refusal(
          httpStatus: "415",
          status: Status(code: .internalError, message: "content-type is not application/grpc")))
    }
    guard headers.first(name: ":method") == "POST" else {
      return .failure(Refusal(status: Status(code: .internalError, message: ":method must be POST")))
    }
    if let encoding = headers.first(name: "grpc-encoding"), encoding != "identity" {
      return .failure(
        Refusal(
          status: Status(
            code: .unimplemented,
            message: "grpc-encoding \(encoding) is not supported; this server accepts only uncompressed messages")))
    }
    guard let path = headers.first(name: ":path"), let method = methodDescriptor(path: path) else {
      let path = headers.first(name: ":path") ?? "(none)"
      return .failure(Refusal(status: Status(code: .unimplemented, message: "malformed method path \(path)")))
    }
    return .success(RequestHead(method: method, metadata: HeaderMetadata.metadata(from: headers)))
  }

  /// Parses `/package.Service/Method`.
  static func methodDescriptor(path: String) -> MethodDescriptor? {
    guard path.hasPrefix("/") else { return nil }
    let parts = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
    return MethodDescriptor(fullyQualifiedService: String(parts[0]), method: String(parts[1]))
  }
}
