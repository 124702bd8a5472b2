import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import Synchronization
@_exported import TestSupport
import Testing

@testable import NomadPlugin

/// Messages as raw bytes, so tests need no generated code.
struct RawBytes: MessageSerializer, MessageDeserializer {
  func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
  func deserialize<Bytes: GRPCContiguousBytes>(_ bytes: Bytes) throws -> [UInt8] {
    bytes.withUnsafeBytes { Array($0) }
  }
}

/// A small service with one method per transport behaviour under test.
final class EchoService: RegistrableRPCService, Sendable {
  static func method(_ name: String) -> MethodDescriptor {
    MethodDescriptor(fullyQualifiedService: "test.Echo", method: name)
  }

  /// How many `Hold` handlers have started and ended.
  let held = Mutex<(started: Int, ended: Int)>((0, 0))

  func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
    // Echoes the request's messages back, one for one.
    router.registerHandler(forMethod: Self.method("Echo"), deserializer: RawBytes(), serializer: RawBytes()) {
      request, _ in
      StreamingServerResponse { writer in
        for try await message in request.messages { try await writer.write(message) }
        return [:]
      }
    }
    // Sends as many one-byte messages as the request's first byte says.
    router.registerHandler(forMethod: Self.method("Count"), deserializer: RawBytes(), serializer: RawBytes()) {
      request, _ in
      StreamingServerResponse { writer in
        var count = 0
        for try await message in request.messages { count = Int(message.first ?? 0) }
        for index in 0..<count { try await writer.write([UInt8(index)]) }
        return [:]
      }
    }
    // Fails with a status message that needs percent-encoding, before any response headers.
    router.registerHandler(forMethod: Self.method("Fail"), deserializer: RawBytes(), serializer: RawBytes()) {
      request, _ in
      for try await _ in request.messages {}
      throw RPCError(code: .failedPrecondition, message: Self.failureMessage, metadata: ["x-why": "because"])
    }
    // Returns the request's `x-in` and `x-in-bin` metadata as response and trailing metadata.
    router.registerHandler(forMethod: Self.method("Metadata"), deserializer: RawBytes(), serializer: RawBytes()) {
      request, _ in
      var headers: Metadata = [:]
      for value in request.metadata[stringValues: "x-in"] { headers.addString(value, forKey: "x-out") }
      for value in request.metadata[binaryValues: "x-in-bin"] { headers.addBinary(value, forKey: "x-out-bin") }
      let trailers = headers
      return StreamingServerResponse(metadata: headers) { writer in
        for try await message in request.messages { try await writer.write(message) }
        return trailers
      }
    }
    // Sends one message, then holds the stream until the RPC is cancelled.
    router.registerHandler(forMethod: Self.method("Hold"), deserializer: RawBytes(), serializer: RawBytes()) {
      request, context in
      StreamingServerResponse { writer in
        self.held.withLock { $0.started += 1 }
        defer { self.held.withLock { $0.ended += 1 } }
        for try await _ in request.messages {}
        try await writer.write([1])
        try await context.cancellation.cancelled
        return [:]
      }
    }
  }

  static let failureMessage = "bad state: 100% ünïcode\nand a newline"
}

/// A fresh socket path short enough for `sockaddr_un`.
func temporarySocketPath() -> String {
  "/tmp/milo-transport-\(UInt32.random(in: 0...UInt32.max)).sock"
}

/// Which server transport a test runs against; `MILO_TEST_SERVER_TRANSPORT=grpc-posix` runs the
/// transport tests against grpc-swift's own one, to check that they can fail.
enum ServerTransportUnderTest {
  static var useGRPCPosix: Bool {
    ProcessInfo.processInfo.environment["MILO_TEST_SERVER_TRANSPORT"] == "grpc-posix"
  }
}

/// Runs `body` with a `GRPCServer` serving `service` on a fresh socket, and a grpc-swift client
/// connected to it.
func withEchoServer<Result: Sendable>(
  _ service: EchoService = EchoService(),
  _ body: (GRPCClient<HTTP2ClientTransport.Posix>, String) async throws -> Result
) async throws -> Result {
  let path = temporarySocketPath()
  defer { unlink(path) }
  if ServerTransportUnderTest.useGRPCPosix {
    let transport = HTTP2ServerTransport.Posix(address: .unixDomainSocket(path: path), transportSecurity: .plaintext)
    return try await withGRPCServer(transport: transport, services: [service]) { _ in
      _ = try await transport.listeningAddress
      return try await withClient(path: path) { try await body($0, path) }
    }
  }
  var logger = Logger(label: "transport-test")
  logger.logLevel = .debug
  let transport = UnixSocketServerTransport(path: path, logger: logger)
  return try await withGRPCServer(transport: transport, services: [service]) { _ in
    _ = try await transport.listeningAddress
    return try await withClient(path: path) { try await body($0, path) }
  }
}

func withClient<Result: Sendable>(
  path: String, _ body: (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Result
) async throws -> Result {
  let transport = try HTTP2ClientTransport.Posix(
    target: .unixDomainSocket(path: path), transportSecurity: .plaintext)
  return try await withGRPCClient(transport: transport) { try await body($0) }
}

/// Options that allow 16 MiB messages both ways.
var largeMessageOptions: CallOptions {
  var options = CallOptions.defaults
  options.maxRequestMessageBytes = 16 << 20
  options.maxResponseMessageBytes = 16 << 20
  return options
}
