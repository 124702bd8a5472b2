/// The percent-encoding gRPC uses for `grpc-message`: UTF-8 bytes outside printable ASCII, and `%`
/// itself, are written as `%XX` so any status message survives as an HTTP/2 header value.
enum StatusMessageEncoding {
  static func encode(_ message: String) -> String {
    let utf8 = message.utf8
    guard utf8.contains(where: needsEncoding) else { return message }
    let hex = Array("0123456789ABCDEF".utf8)
    var bytes: [UInt8] = []
    bytes.reserveCapacity(utf8.count * 3)
    for byte in utf8 {
      if needsEncoding(byte) {
        bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
      } else {
        bytes.append(byte)
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  private static func needsEncoding(_ byte: UInt8) -> Bool {
    byte < 0x20 || byte > 0x7E || byte == UInt8(ascii: "%")
  }
}
