import GRPCCore
import NIOCore

/// The writer GRPCCore sends response parts through: the stream's async outbound writer, and a
/// reset of the stream when the RPC ends with an error instead of a status.
struct ResponseWriter: ClosableRPCWriterProtocol {
  typealias Element = RPCResponsePart<MessageBytes>

  let writer: NIOAsyncChannelOutboundWriter<Element>
  let stream: any Channel

  func write(_ element: Element) async throws {
    try await writer.write(element)
  }

  func write(contentsOf elements: some Sequence<Element>) async throws {
    try await writer.write(contentsOf: elements)
  }

  func finish() async {
    writer.finish()
  }

  func finish(throwing error: any Error) async {
    writer.finish()
    stream.close(promise: nil)
  }
}
