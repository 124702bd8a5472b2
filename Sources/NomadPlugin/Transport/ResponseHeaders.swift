import GRPCCore
import NIOHPACK

/// The header blocks a gRPC server sends: the response headers that open a response, and the
/// trailers that end it with a status.
enum ResponseHeaders {
  /// `:status 200` and the gRPC content type, followed by `metadata`.
  static func opening(_ metadata: Metadata, httpStatus: String = "200") -> HPACKHeaders {
    var headers = HPACKHeaders()
    headers.reserveCapacity(2 + metadata.count)
    headers.add(name: ":status", value: httpStatus)
    headers.add(name: "content-type", value: "application/grpc")
    HeaderMetadata.add(metadata, to: &headers)
    return headers
  }

  /// The trailers carrying `status` and trailing `metadata`. A trailers-only response (no
  /// response headers were sent) also carries what the response headers would have.
  static func trailers(
    _ status: Status, _ metadata: Metadata, trailersOnly: Bool, httpStatus: String = "200"
  ) -> HPACKHeaders {
    var headers = HPACKHeaders()
    headers.reserveCapacity(4 + metadata.count)
    if trailersOnly {
      headers.add(name: ":status", value: httpStatus)
      headers.add(name: "content-type", value: "application/grpc")
    }
    headers.add(name: "grpc-status", value: String(status.code.rawValue))
    if !status.message.isEmpty {
      headers.add(name: "grpc-message", value: StatusMessageEncoding.encode(status.message))
    }
    HeaderMetadata.add(metadata, to: &headers)
    return headers
  }
}
