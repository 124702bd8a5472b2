import Foundation
import GRPCCore
import NIOHPACK

/// How gRPC metadata travels in HTTP/2 header fields: lower-case names, with binary values (names
/// ending in `-bin`) base64-encoded.
enum HeaderMetadata {
  /// The metadata of request or trailer `headers`: every field except the HTTP/2 pseudo-headers.
  static func metadata(from headers: HPACKHeaders) -> Metadata {
    var metadata = Metadata()
    for (name, value, _) in headers where !name.hasPrefix(":") {
      if name.hasSuffix("-bin"), let bytes = decodeBase64(value) {
        metadata.addBinary(bytes, forKey: name)
      } else {
        metadata.addString(value, forKey: name)
      }
    }
    return metadata
  }

  /// Appends `metadata` to `headers`.
  static func add(_ metadata: Metadata, to headers: inout HPACKHeaders) {
    for (key, value) in metadata {
      let name = key.lowercased()
      switch value {
      case .string(let text):
        headers.add(name: name, value: text)
      case .binary(let bytes):
        headers.add(name: name, value: Data(bytes).base64EncodedString())
      }
    }
  }

  /// Decodes base64 with or without padding, as gRPC peers may send either.
  private static func decodeBase64(_ text: String) -> [UInt8]? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    let padding = String(repeating: "=", count: (4 - trimmed.utf8.count % 4) % 4)
    return Data(base64Encoded: trimmed + padding).map { [UInt8]($0) }
  }
}
