import GRPCCore
import GRPCNIOTransportHTTP2Posix
import NIOCore
import Testing

@testable import NomadPlugin

/// Load the Nomad client puts on the plugin's one connection, which grpc-swift's own server
/// transport (swift-nio-http2 defaults) answers with GOAWAY. Run with
/// `MILO_TEST_SERVER_TRANSPORT=grpc-posix` to see that.
@Suite(.timeLimit(.minutes(1))) struct TransportStressTests {
  /// 300 server streams held open at once on one connection, then one more RPC.
  @Test func threeHundredConcurrentStreams() async throws {
    let service = EchoService()
    try await withEchoServer(service) { client, _ in
      try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<300 {
          group.addTask {
            try await client.serverStreaming(
              request: ClientRequest(message: []), descriptor: EchoService.method("Hold"),
              serializer: RawBytes(), deserializer: RawBytes(), options: .defaults
            ) { response in
              for try await _ in response.messages {
                // Hold this stream until the test cancels it.
                try await Task.sleep(for: .seconds(60))
              }
            }
          }
        }
        #expect(await eventually(timeout: .seconds(20)) { service.held.withLock { $0.started == 300 } })
        let reply = try await client.unary(
          request: ClientRequest(message: [42]), descriptor: EchoService.method("Echo"),
          serializer: RawBytes(), deserializer: RawBytes(), options: .defaults
        ) { try $0.message }
        #expect(reply == [42])
        group.cancelAll()
      }
      #expect(await eventually(timeout: .seconds(10)) { service.held.withLock { $0.ended == 300 } })
    }
  }

  /// 1000 PINGs and 1000 opened-and-reset streams within a second, then an RPC on the same
  /// connection.
  @Test func pingAndResetFloodKeepsTheConnection() async throws {
    let service = EchoService()
    try await withEchoServer(service) { _, path in
      let client = try await RawHTTP2Client.connect(path: path)
      let start = ContinuousClock.now
      try await client.ping(count: 1000)
      // One at a time: HTTP/2 requires streams to start in the order of their IDs.
      for _ in 0..<1000 { try await client.openAndReset(path: "/test.Echo/Hold") }
      let elapsed = ContinuousClock.now - start
      let response = try await client.call(path: "/test.Echo/Echo", body: grpcFrame(Array("still here".utf8)))
      #expect(response.status == "0")
      #expect(response.data == grpcFrame(Array("still here".utf8)))
      #expect(client.goAways.frames.withLock { $0 } == [])
      // NIOHTTP2's default limits allow 200 of each per 30 s; a loaded machine may take more than
      // a second, but the flood must stay well inside that window to test them.
      #expect(elapsed < .seconds(10), "the flood took \(elapsed)")
      // Every started `Hold` handler saw its stream reset and ended.
      #expect(await eventually(timeout: .seconds(10)) { service.held.withLock { $0.started == $0.ended } })
      await client.close()
    }
  }
}
