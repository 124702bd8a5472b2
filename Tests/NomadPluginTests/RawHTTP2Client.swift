import GRPCCore
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import Synchronization

@testable import NomadPlugin

/// A bare swift-nio-http2 client on the plugin socket, for traffic grpc-swift's client does not
/// send: floods of PINGs and resets, and malformed gRPC requests.
struct RawHTTP2Client {
  let channel: any Channel
  let streams: NIOHTTP2Handler.AsyncStreamMultiplexer<Void>
  let goAways: GoAwayRecorder.Box

  /// Records the GOAWAY frames the server sends.
  final class GoAwayRecorder: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    final class Box: Sendable { let frames = Mutex<[String]>([]) }
    let box: Box
    init(_ box: Box) { self.box = box }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
      if case .goAway(let lastStreamID, let code, _) = unwrapInboundIn(data).payload {
        box.frames.withLock { $0.append("\(code) last stream \(lastStreamID)") }
      }
    }
  }

  static func connect(path: String) async throws -> RawHTTP2Client {
    let goAways = GoAwayRecorder.Box()
    let (channel, streams) = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .connect(unixDomainSocketPath: path) { channel in
        channel.eventLoop.makeCompletedFuture {
          // The client gets the server's lenient limits too, or the PING acks would trip its own.
          let streams = try channel.pipeline.syncOperations.configureAsyncHTTP2Pipeline(
            mode: .client, configuration: .trustedPeer(UnixSocketServerTransport.Configuration())
          ) { $0.eventLoop.makeSucceededVoidFuture() }
          try channel.pipeline.syncOperations.addHandler(GoAwayRecorder(goAways))
          return (channel, streams)
        }
      }
    return RawHTTP2Client(channel: channel, streams: streams, goAways: goAways)
  }

  /// Sends `count` PINGs in one burst.
  func ping(count: Int) async throws {
    for index in 0..<count {
      let ping = HTTP2Frame.FramePayload.ping(HTTP2PingData(withInteger: UInt64(index)), ack: false)
      channel.write(HTTP2Frame(streamID: .rootStream, payload: ping), promise: nil)
    }
    try await channel.writeAndFlush(
      HTTP2Frame(streamID: .rootStream, payload: .ping(HTTP2PingData(withInteger: 0), ack: false)))
  }

  static func requestHeaders(path: String, extra: [(String, String)] = []) -> HPACKHeaders {
    var headers: HPACKHeaders = [
      ":method": "POST", ":scheme": "http", ":path": path, ":authority": "localhost",
      "content-type": "application/grpc", "te": "trailers",
    ]
    for (name, value) in extra { headers.add(name: name, value: value) }
    return headers
  }

  /// Opens a stream that calls `path`, then resets it.
  func openAndReset(path: String) async throws {
    let stream = try await streams.openStream { $0.eventLoop.makeSucceededFuture($0) }
    let headers = HTTP2Frame.FramePayload.headers(.init(headers: Self.requestHeaders(path: path)))
    try await stream.writeAndFlush(headers)
    // Closing an open stream resets it (RST_STREAM CANCEL) and fails the close with that reason.
    try? await stream.close()
  }

  /// The response to one gRPC call made by hand.
  struct Response {
    var headers: [HPACKHeaders] = []
    var data = ByteBuffer()
    var trailers: HPACKHeaders? { headers.count > 0 ? headers.last : nil }
    var status: String? { trailers?.first(name: "grpc-status") }
    var message: String? { trailers?.first(name: "grpc-message") }
  }

  /// Calls `path` with `body` as the whole request (already framed) and reads the response.
  func call(path: String, body: ByteBuffer, extraHeaders: [(String, String)] = []) async throws -> Response {
    let stream = try await streams.openStream { channel in
      channel.eventLoop.makeCompletedFuture {
        try NIOAsyncChannel<HTTP2Frame.FramePayload, HTTP2Frame.FramePayload>(wrappingChannelSynchronously: channel)
      }
    }
    return try await stream.executeThenClose { inbound, outbound in
      try await outbound.write(.headers(.init(headers: Self.requestHeaders(path: path, extra: extraHeaders))))
      try await outbound.write(.data(.init(data: .byteBuffer(body), endStream: true)))
      var response = Response()
      for try await frame in inbound {
        switch frame {
        case .headers(let headers):
          response.headers.append(headers.headers)
          if headers.endStream { return response }
        case .data(let data):
          if case .byteBuffer(var bytes) = data.data { response.data.writeBuffer(&bytes) }
          if data.endStream { return response }
        default:
          break
        }
      }
      return response
    }
  }

  func close() async {
    try? await channel.close()
  }
}

/// Frames `message` as a gRPC length-prefixed message with the given compressed flag.
func grpcFrame(_ message: [UInt8], compressed: Bool = false) -> ByteBuffer {
  var buffer = ByteBuffer()
  buffer.writeInteger(UInt8(compressed ? 1 : 0))
  buffer.writeInteger(UInt32(message.count))
  buffer.writeBytes(message)
  return buffer
}
