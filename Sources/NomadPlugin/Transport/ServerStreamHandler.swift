import GRPCCore
import NIOCore
import NIOHPACK
import NIOHTTP2

/// Serves one gRPC call on one HTTP/2 stream: turns the client's HEADERS and DATA frames into
/// request parts, the handler's response parts into HEADERS, DATA and trailers, and cancels the
/// RPC when the stream goes away first.
final class ServerStreamHandler: ChannelDuplexHandler {
  typealias InboundIn = HTTP2Frame.FramePayload
  typealias InboundOut = RPCRequestPart<MessageBytes>
  typealias OutboundIn = RPCResponsePart<MessageBytes>
  typealias OutboundOut = HTTP2Frame.FramePayload

  private enum Request {
    case awaitingHeaders
    case open(MessageDeframer)
    /// Refused or failed; further frames are dropped until the client ends the stream.
    case ignored
    case closed
  }

  private enum Response {
    case idle
    case open
    case closed
  }

  private var request = Request.awaitingHeaders
  private var response = Response.idle
  private let method: EventLoopPromise<MethodDescriptor>
  private let maximumMessageLength: Int
  private var cancellation: ServerContext.RPCCancellationHandle?
  private var cancelled = false

  /// - Parameters:
  ///   - method: Succeeded with the called method once the request headers are accepted; failed
  ///     when they are refused or the stream closes first.
  ///   - maximumMessageLength: The largest request message accepted.
  init(method: EventLoopPromise<MethodDescriptor>, maximumMessageLength: Int) {
    self.method = method
    self.maximumMessageLength = maximumMessageLength
  }

  /// Hands over the RPC's cancellation handle; cancels it at once if the stream is already gone.
  func setCancellation(_ handle: ServerContext.RPCCancellationHandle) {
    if cancelled {
      handle.cancel()
    } else {
      cancellation = handle
    }
  }

  private func cancelRPC() {
    cancelled = true
    cancellation?.cancel()
    cancellation = nil
  }

  // MARK: Inbound

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .headers(let headers):
      receiveHeaders(headers.headers, endStream: headers.endStream, context: context)
    case .data(let data):
      if case .byteBuffer(let bytes) = data.data {
        receiveData(bytes, endStream: data.endStream, context: context)
      }
    case .rstStream:
      cancelRPC()
    default:
      break
    }
  }

  private func receiveHeaders(_ headers: HPACKHeaders, endStream: Bool, context: ChannelHandlerContext) {
    switch request {
    case .awaitingHeaders:
      switch RequestHead.parse(headers) {
      case .success(let head):
        request = .open(MessageDeframer(maximumMessageLength: maximumMessageLength))
        method.succeed(head.method)
        context.fireChannelRead(wrapInboundOut(.metadata(head.metadata)))
        if endStream { receiveData(ByteBuffer(), endStream: true, context: context) }
      case .failure(let refusal):
        request = endStream ? .closed : .ignored
        method.fail(refusal)
        finish(with: refusal.status, httpStatus: refusal.httpStatus, context: context)
      }
    case .open, .ignored:
      // Request trailers carry nothing gRPC uses; only their end of stream matters.
      if endStream { receiveData(ByteBuffer(), endStream: true, context: context) }
    case .closed:
      break
    }
  }

  private func receiveData(_ bytes: ByteBuffer, endStream: Bool, context: ChannelHandlerContext) {
    guard case .open(var deframer) = request else {
      if endStream, case .ignored = request { request = .closed }
      return
    }
    request = .ignored  // while `deframer` is mutated, so its buffer is not shared
    deframer.append(bytes)
    do {
      while let message = try deframer.next() {
        context.fireChannelRead(wrapInboundOut(.message(MessageBytes(message))))
      }
      if endStream { try deframer.finish() }
    } catch {
      if endStream { request = .closed }
      let status = Self.status(for: error)
      cancelRPC()
      finish(with: status, context: context)
      context.fireErrorCaught(RPCError(status: status) ?? RPCError(code: .internalError, message: status.message))
      return
    }
    if endStream {
      request = .closed
      context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
    } else {
      request = .open(deframer)
    }
  }

  private static func status(for failure: MessageFraming.Failure) -> Status {
    switch failure {
    case .compressedMessage:
      Status(
        code: .internalError,
        message: "received a compressed message, but no compression was negotiated (grpc-encoding identity)")
    case .messageTooLarge(let length, let limit):
      Status(code: .resourceExhausted, message: "request message of \(length) bytes exceeds the limit of \(limit)")
    case .truncatedMessage(let missing):
      Status(code: .internalError, message: "request ended \(missing) bytes short of a complete message")
    }
  }

  func channelInactive(context: ChannelHandlerContext) {
    cancelRPC()
    method.fail(RPCError(code: .unavailable, message: "the stream closed before its request headers arrived"))
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    cancelRPC()
    context.fireErrorCaught(error)
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    method.fail(RPCError(code: .unavailable, message: "the stream closed before its request headers arrived"))
  }

  // MARK: Outbound

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    switch unwrapOutboundIn(data) {
    case .metadata(let metadata):
      guard case .idle = response else {
        promise?.fail(RPCError(code: .internalError, message: "response metadata was already sent"))
        return
      }
      response = .open
      let headers = HTTP2Frame.FramePayload.Headers(headers: ResponseHeaders.opening(metadata))
      context.write(wrapOutboundOut(.headers(headers)), promise: promise)
    case .message(let message):
      guard case .open = response else {
        promise?.fail(RPCError(code: .internalError, message: "a response message needs response metadata first"))
        return
      }
      let framed = MessageFraming.frame(message.buffer, allocator: context.channel.allocator)
      context.write(wrapOutboundOut(.data(.init(data: .byteBuffer(framed)))), promise: promise)
    case .status(let status, let metadata):
      if case .closed = response {
        promise?.fail(RPCError(code: .internalError, message: "the response has already ended"))
        return
      }
      finish(with: status, metadata: metadata, promise: promise, context: context)
    }
  }

  /// Ends the response with `status`: trailers after response headers, or a trailers-only
  /// response. The stream is reset once they are written if the client is still sending.
  private func finish(
    with status: Status, metadata: Metadata = [:], httpStatus: String = "200", promise: EventLoopPromise<Void>? = nil,
    context: ChannelHandlerContext
  ) {
    guard !isResponseClosed else {
      promise?.succeed()
      return
    }
    let trailersOnly = if case .idle = response { true } else { false }
    response = .closed
    let trailers = ResponseHeaders.trailers(status, metadata, trailersOnly: trailersOnly, httpStatus: httpStatus)
    let written = promise ?? context.eventLoop.makePromise()
    context.writeAndFlush(wrapOutboundOut(.headers(.init(headers: trailers, endStream: true))), promise: written)
    written.futureResult.assumeIsolated().whenComplete { _ in
      if case .closed = self.request {} else { context.close(promise: nil) }
    }
  }

  private var isResponseClosed: Bool {
    if case .closed = response { true } else { false }
  }
}
