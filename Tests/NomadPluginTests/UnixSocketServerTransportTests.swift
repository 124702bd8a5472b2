import GRPCCore
import GRPCNIOTransportHTTP2Posix
import NIOCore
import Testing

@testable import NomadPlugin

/// grpc-swift's client against `UnixSocketServerTransport`, one wire behaviour per test.
@Suite(.timeLimit(.minutes(1))) struct UnixSocketServerTransportTests {
  @Test func unaryEchoes() async throws {
    try await withEchoServer { client, _ in
      let reply = try await client.unary(
        request: ClientRequest(message: Array("hello".utf8)), descriptor: EchoService.method("Echo"),
        serializer: RawBytes(), deserializer: RawBytes(), options: .defaults
      ) { try $0.message }
      #expect(reply == Array("hello".utf8))
    }
  }

  @Test func serverStreamingSendsEveryMessage() async throws {
    try await withEchoServer { client, _ in
      let received = try await client.serverStreaming(
        request: ClientRequest(message: [200]), descriptor: EchoService.method("Count"),
        serializer: RawBytes(), deserializer: RawBytes(), options: .defaults
      ) { response in
        var all: [UInt8] = []
        for try await message in response.messages { all += message }
        return all
      }
      #expect(received == (0..<200).map { UInt8($0) })
    }
  }

  @Test func bidirectionalStreamingEchoesEachMessage() async throws {
    try await withEchoServer { client, _ in
      let received = try await client.bidirectionalStreaming(
        request: StreamingClientRequest { writer in
          for index in 0..<50 { try await writer.write([UInt8(index), 0xFF]) }
        },
        descriptor: EchoService.method("Echo"), serializer: RawBytes(), deserializer: RawBytes(), options: .defaults
      ) { response in
        var all: [[UInt8]] = []
        for try await message in response.messages { all.append(message) }
        return all
      }
      #expect(received == (0..<50).map { [UInt8($0), 0xFF] })
    }
  }

  @Test func unknownMethodIsUnimplemented() async throws {
    try await withEchoServer { client, _ in
      let error = await #expect(throws: RPCError.self) {
        try await client.unary(
          request: ClientRequest(message: [1]), descriptor: EchoService.method("Missing"),
          serializer: RawBytes(), deserializer: RawBytes(), options: .defaults
        ) { try $0.message }
      }
      #expect(error?.code == .unimplemented)
    }
  }

  @Test func errorStatusAndMessageRoundTrip() async throws {
    try await withEchoServer { client, _ in
      let error = await #expect(throws: RPCError.self) {
        try await client.unary(
          request: ClientRequest(message: [1]), descriptor: EchoService.method("Fail"),
          serializer: RawBytes(), deserializer: RawBytes(), options: .defaults
        ) { try $0.message }
      }
      #expect(error?.code == .failedPrecondition)
      #expect(error?.message == EchoService.failureMessage)
      #expect(error?.metadata[stringValues: "x-why"].first(where: { _ in true }) == "because")
    }
  }

  @Test func metadataRoundTrips() async throws {
    try await withEchoServer { client, _ in
      let binary: [UInt8] = [0, 1, 2, 0xFE, 0xFF]
      let (headers, trailers) = try await client.unary(
        request: ClientRequest(message: [7], metadata: ["x-in": "plain value", "x-in-bin": .binary(binary)]),
        descriptor: EchoService.method("Metadata"), serializer: RawBytes(), deserializer: RawBytes(),
        options: .defaults
      ) { response in (response.metadata, response.trailingMetadata) }
      #expect(Array(headers[stringValues: "x-out"]) == ["plain value"])
      #expect(Array(headers[binaryValues: "x-out-bin"]) == [binary])
      #expect(Array(trailers[stringValues: "x-out"]) == ["plain value"])
      #expect(Array(trailers[binaryValues: "x-out-bin"]) == [binary])
    }
  }

  /// 4 MiB each way spans many DATA frames and exceeds every flow-control window.
  @Test func largeMessageRoundTrips() async throws {
    try await withEchoServer { client, _ in
      let message = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
      let reply = try await client.unary(
        request: ClientRequest(message: message), descriptor: EchoService.method("Echo"),
        serializer: RawBytes(), deserializer: RawBytes(), options: largeMessageOptions
      ) { try $0.message }
      #expect(reply.count == message.count)
      #expect(reply == message)
    }
  }

  /// A client that stops reading a server stream resets it; the handler must end promptly.
  @Test func clientCancellationEndsTheServerHandler() async throws {
    let service = EchoService()
    try await withEchoServer(service) { client, _ in
      let first = try await client.serverStreaming(
        request: ClientRequest(message: []), descriptor: EchoService.method("Hold"),
        serializer: RawBytes(), deserializer: RawBytes(), options: .defaults
      ) { response in
        for try await message in response.messages { return message }
        return []
      }
      #expect(first == [1])
      #expect(await eventually(timeout: .seconds(2)) { service.held.withLock { $0.ended == 1 } })
    }
  }

  @Test func compressedMessageIsRefused() async throws {
    try await withEchoServer { _, path in
      let client = try await RawHTTP2Client.connect(path: path)
      let response = try await client.call(
        path: "/test.Echo/Echo", body: grpcFrame([1, 2, 3], compressed: true))
      #expect(response.status == String(Status.Code.internalError.rawValue))
      #expect(response.message?.contains("compress") == true)
      await client.close()
    }
  }

  @Test func malformedPathIsUnimplemented() async throws {
    try await withEchoServer { _, path in
      let client = try await RawHTTP2Client.connect(path: path)
      let response = try await client.call(path: "no-slashes", body: grpcFrame([1]))
      #expect(response.status == String(Status.Code.unimplemented.rawValue))
      #expect(response.headers.count == 1)  // trailers-only
      await client.close()
    }
  }
}
