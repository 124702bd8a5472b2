import Logging
import NIOCore
import NIOHTTP2

/// Watches one HTTP/2 connection from the end of its pipeline: counts its streams, sends GOAWAY
/// and closes once idle when the server shuts down gracefully, closes it after a connection
/// error, and logs why it ended when it closes.
final class ConnectionMonitor: ChannelDuplexHandler, NIOHTTP2FrameDelegate {
  typealias InboundIn = HTTP2Frame
  typealias InboundOut = HTTP2Frame
  typealias OutboundIn = HTTP2Frame
  typealias OutboundOut = HTTP2Frame

  /// The outbound user event that asks the connection to finish its streams and close.
  struct GracefulShutdown: Sendable {}

  private let logger: Logger
  private var context: ChannelHandlerContext?
  private var openStreams = 0
  private var lastStreamID = HTTP2StreamID.rootStream
  private var shuttingDown = false
  private var goAwaySent: HTTP2ErrorCode?
  private var goAwayReceived: (code: HTTP2ErrorCode, detail: String)?
  private var fatalError: (any Error)?
  private var streamErrors = 0

  init(logger: Logger) {
    self.logger = logger
  }

  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    self.context = nil
  }

  // MARK: Streams, reported by `StreamCounter` on the event loop.

  func streamOpened(_ id: HTTP2StreamID) {
    openStreams += 1
    lastStreamID = max(lastStreamID, id)
  }

  func streamClosed(_ id: HTTP2StreamID) {
    openStreams -= 1
    if shuttingDown, openStreams == 0 { context?.close(promise: nil) }
  }

  // MARK: Frames

  func wroteFrame(_ frame: HTTP2Frame) {
    if case .goAway(_, let code, _) = frame.payload, code != .noError, goAwaySent == nil {
      goAwaySent = code
    }
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let frame = unwrapInboundIn(data)
    if case .goAway(let lastStreamID, let code, let opaqueData) = frame.payload {
      var detail = "last stream \(lastStreamID)"
      if var opaqueData, let text = opaqueData.readString(length: opaqueData.readableBytes), !text.isEmpty {
        detail += ", debug data \"\(text)\""
      }
      goAwayReceived = (code, detail)
    }
    context.fireChannelRead(data)
  }

  func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
    guard event is GracefulShutdown else {
      context.triggerUserOutboundEvent(event, promise: promise)
      return
    }
    promise?.succeed()
    guard !shuttingDown else { return }
    shuttingDown = true
    let goAway = HTTP2Frame(
      streamID: .rootStream, payload: .goAway(lastStreamID: lastStreamID, errorCode: .noError, opaqueData: nil))
    context.writeAndFlush(wrapOutboundOut(goAway), promise: nil)
    if openStreams == 0 { context.close(promise: nil) }
  }

  /// NIOHTTP2 reports both stream and connection errors here. A connection error is one after
  /// which it sent GOAWAY with an error code; the connection is then closed. Stream errors only
  /// reset their stream.
  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    if goAwaySent != nil || !(error is any NIOHTTP2Error) {
      if fatalError == nil { fatalError = error }
      context.close(promise: nil)
    } else {
      streamErrors += 1
      logger.debug("HTTP/2 stream error", metadata: ["error": "\(error)"])
    }
  }

  func channelInactive(context: ChannelHandlerContext) {
    var metadata: Logger.Metadata = [
      "open_streams": "\(openStreams)", "last_stream": "\(lastStreamID)", "stream_errors": "\(streamErrors)",
    ]
    if let fatalError {
      metadata["error"] = "\(fatalError)"
      if let goAwaySent { metadata["goaway_sent"] = "\(goAwaySent)" }
      logger.warning("plugin gRPC connection failed", metadata: metadata)
    } else if let goAwayReceived, goAwayReceived.code != .noError {
      metadata["goaway_received"] = "\(goAwayReceived.code), \(goAwayReceived.detail)"
      logger.warning("plugin gRPC connection closed by the client with an error", metadata: metadata)
    } else {
      if let goAwayReceived { metadata["goaway_received"] = "\(goAwayReceived.code), \(goAwayReceived.detail)" }
      metadata["by"] = shuttingDown ? "server shutdown" : "client"
      logger.debug("plugin gRPC connection closed", metadata: metadata)
    }
    context.fireChannelInactive()
  }
}

/// Forwards NIOHTTP2's stream lifecycle callbacks, which arrive on the connection's event loop,
/// to its `ConnectionMonitor`.
struct StreamCounter: NIOHTTP2StreamDelegate {
  let monitor: NIOLoopBound<ConnectionMonitor>

  func streamCreated(_ id: HTTP2StreamID, channel: any Channel) {
    monitor.value.streamOpened(id)
  }

  func streamClosed(_ id: HTTP2StreamID, channel: any Channel) {
    monitor.value.streamClosed(id)
  }
}
