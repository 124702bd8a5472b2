import GRPCCore
import Logging
import NIOCore
import NIOHTTP2
import NIOPosix
import Synchronization

/// A gRPC server transport on a unix socket whose only client is trusted, built directly on
/// swift-nio-http2 so that its HTTP/2 limits fit that client (see `trustedPeer(_:)`), where
/// grpc-swift's transport applies defaults meant for untrusted internet peers.
///
/// Each accepted connection gets an `NIOHTTP2Handler` and a `ConnectionMonitor`; each stream a
/// `ServerStreamHandler` wrapped in an async channel that GRPCCore reads and writes. A stream
/// the client resets, or whose connection closes, cancels its RPC through the RPC's
/// cancellation handle. Graceful shutdown closes the socket, sends GOAWAY on each connection and
/// lets open RPCs finish.
public final class UnixSocketServerTransport: ServerTransport, Sendable {
  public typealias Bytes = MessageBytes

  /// Limits and windows; the defaults suit one trusted client with many concurrent streams.
  public struct Configuration: Sendable {
    /// The concurrent streams the client may open on a connection.
    public var maxConcurrentStreams = 65535
    /// The flow-control window of each request stream, in bytes.
    public var streamWindowSize = 1 << 20
    /// The flow-control window of a whole connection, in bytes.
    public var connectionWindowSize = 8 << 20
    /// The largest HTTP/2 frame the client may send, in bytes (16 KiB to 16 MiB - 1).
    public var maxFrameSize = 1 << 20
    /// The largest request message accepted, in bytes.
    public var maxRequestMessageLength = 64 << 20

    public init() {}
  }

  private struct State {
    var listener: (any Channel)?
    var connections: [ObjectIdentifier: any Channel] = [:]
    var shuttingDown = false
  }

  private let path: String
  private let configuration: Configuration
  private let logger: Logger
  private let group: any EventLoopGroup
  private let address = ListeningAddress()
  private let state = Mutex(State())

  /// - Parameters:
  ///   - path: The socket path; an existing socket file there is replaced.
  ///   - logger: Receives why connections end.
  public init(
    path: String, configuration: Configuration = Configuration(), logger: Logger,
    group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
  ) {
    self.path = path
    self.configuration = configuration
    self.logger = logger
    self.group = group
  }

  /// The socket path once the transport listens; throws if listening failed or ended first.
  public var listeningAddress: String {
    get async throws { try await address.value }
  }

  public func listen(
    streamHandler: @escaping @Sendable (RPCStream<Inbound, Outbound>, ServerContext) async -> Void
  ) async throws {
    defer { address.resolve(.failure(RPCError(code: .unavailable, message: "the transport stopped listening"))) }
    let listener: NIOAsyncChannel<AcceptedConnection, Never>
    do {
      listener = try await ServerBootstrap(group: group)
        .serverChannelOption(.backlog, value: 256)
        .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true) { channel in
          channel.eventLoop.makeCompletedFuture { try self.configure(connection: channel) }
        }
    } catch {
      address.resolve(.failure(error))
      throw error
    }
    address.resolve(.success(path))
    let shuttingDown = state.withLock { state in
      state.listener = listener.channel
      return state.shuttingDown
    }
    if shuttingDown { listener.channel.close(promise: nil) }

    try await listener.executeThenClose { connections in
      await withDiscardingTaskGroup { group in
        do {
          for try await connection in connections {
            group.addTask { await self.serve(connection, streamHandler: streamHandler) }
          }
        } catch is CancellationError {
          logger.debug("plugin gRPC socket closed: the server task was cancelled")
        } catch {
          logger.warning("plugin gRPC socket stopped accepting connections", metadata: ["error": "\(error)"])
        }
      }
    }
  }

  public func beginGracefulShutdown() {
    let (listener, connections) = state.withLock { state in
      state.shuttingDown = true
      return (state.listener, Array(state.connections.values))
    }
    listener?.close(promise: nil)
    for connection in connections {
      connection.triggerUserOutboundEvent(ConnectionMonitor.GracefulShutdown(), promise: nil)
    }
  }

  // MARK: Connections

  private struct AcceptedConnection: Sendable {
    let channel: any Channel
    let streams: NIOHTTP2Handler.AsyncStreamMultiplexer<IncomingStream>
  }

  private struct IncomingStream: Sendable {
    let channel: NIOAsyncChannel<RPCRequestPart<MessageBytes>, RPCResponsePart<MessageBytes>>
    let method: EventLoopFuture<MethodDescriptor>
    let handler: NIOLoopBound<ServerStreamHandler>
  }

  /// Sets up a new connection's pipeline; runs on its event loop.
  private func configure(connection channel: any Channel) throws -> AcceptedConnection {
    let monitor = ConnectionMonitor(logger: logger)
    let pipeline = channel.pipeline.syncOperations
    let streams = try pipeline.configureAsyncHTTP2Pipeline(
      mode: .server,
      streamDelegate: StreamCounter(monitor: NIOLoopBound(monitor, eventLoop: channel.eventLoop)),
      frameDelegate: monitor,
      configuration: .trustedPeer(configuration)
    ) { stream in
      stream.eventLoop.makeCompletedFuture { try self.configure(stream: stream) }
    }
    try pipeline.addHandler(monitor)
    logger.debug("plugin gRPC connection accepted")
    return AcceptedConnection(channel: channel, streams: streams)
  }

  /// Sets up a new stream's pipeline; runs on its event loop.
  private func configure(stream channel: any Channel) throws -> IncomingStream {
    let method = channel.eventLoop.makePromise(of: MethodDescriptor.self)
    let handler = ServerStreamHandler(method: method, maximumMessageLength: configuration.maxRequestMessageLength)
    try channel.pipeline.syncOperations.addHandler(handler)
    return IncomingStream(
      channel: try NIOAsyncChannel(wrappingChannelSynchronously: channel),
      method: method.futureResult,
      handler: NIOLoopBound(handler, eventLoop: channel.eventLoop))
  }

  private func serve(
    _ connection: AcceptedConnection,
    streamHandler: @escaping @Sendable (RPCStream<Inbound, Outbound>, ServerContext) async -> Void
  ) async {
    let id = ObjectIdentifier(connection.channel)
    let shuttingDown = state.withLock { state in
      state.connections[id] = connection.channel
      return state.shuttingDown
    }
    defer { _ = state.withLock { $0.connections.removeValue(forKey: id) } }
    if shuttingDown {
      connection.channel.triggerUserOutboundEvent(ConnectionMonitor.GracefulShutdown(), promise: nil)
    }
    await withTaskCancellationHandler {
      await withDiscardingTaskGroup { group in
        do {
          for try await stream in connection.streams.inbound {
            group.addTask { await self.serve(stream, streamHandler: streamHandler) }
          }
        } catch {
          // The connection ended; `ConnectionMonitor` logs why.
        }
      }
    } onCancel: {
      connection.channel.close(promise: nil)
    }
  }

  private func serve(
    _ stream: IncomingStream,
    streamHandler: @escaping @Sendable (RPCStream<Inbound, Outbound>, ServerContext) async -> Void
  ) async {
    let channel = stream.channel.channel
    let peer = "unix:\(path)"
    try? await stream.channel.executeThenClose { inbound, outbound in
      if let method = try? await stream.method.get() {
        await withServerContextRPCCancellationHandle { cancellation in
          channel.eventLoop.execute { stream.handler.value.setCancellation(cancellation) }
          let rpc = RPCStream(
            descriptor: method,
            inbound: RPCAsyncSequence(wrapping: inbound),
            outbound: RPCWriter.Closable(wrapping: ResponseWriter(writer: outbound, stream: channel)))
          let context = ServerContext(descriptor: method, remotePeer: peer, localPeer: peer, cancellation: cancellation)
          await streamHandler(rpc, context)
        }
      }
      // Let the trailers go out: the stream closes once they are written (see
      // `ServerStreamHandler`), while closing it now could drop them.
      if !Task.isCancelled { try? await channel.closeFuture.get() }
    }
  }
}
