import Foundation
import GRPCCore
import NomadProto
import Synchronization

@testable import NomadPlugin

/// Calls a `DriverService` as grpc-swift does for Nomad's requests.
enum ServiceCall {
  static func context() -> ServerContext {
    ServerContext(
      descriptor: MethodDescriptor(fullyQualifiedService: "test", method: "call"), remotePeer: "peer",
      localPeer: "local", cancellation: ServerContext.RPCCancellationHandle())
  }

  /// The requests of a client-streaming call.
  static func requests<Element: Sendable>(_ elements: [Element]) -> RPCAsyncSequence<Element, any Error> {
    let (stream, continuation) = AsyncStream.makeStream(of: Element.self)
    elements.forEach { continuation.yield($0) }
    continuation.finish()
    return RPCAsyncSequence(wrapping: stream.map { $0 })
  }
}

/// Keeps what a handler writes.
struct Recorder<Element: Sendable>: RPCWriterProtocol {
  final class Box: Sendable { let elements = Mutex<[Element]>([]) }
  let box = Box()
  var elements: [Element] { box.elements.withLock { $0 } }
  func write(_ element: Element) async throws { box.elements.withLock { $0.append(element) } }
  func write(contentsOf elements: some Sequence<Element>) async throws {
    for element in elements { try await write(element) }
  }
}

typealias ExecRequest = Hashicorp_Nomad_Plugins_Drivers_Proto_ExecTaskStreamingRequest
typealias ExecResponse = Hashicorp_Nomad_Plugins_Drivers_Proto_ExecTaskStreamingResponse

extension ExecRequest {
  static func setup(task: String, command: [String], tty: Bool = false) -> ExecRequest {
    var request = ExecRequest()
    request.setup.taskID = task
    request.setup.command = command
    request.setup.tty = tty
    return request
  }

  static func stdin(_ text: String, close: Bool = false) -> ExecRequest {
    var request = ExecRequest()
    request.stdin.data = Data(text.utf8)
    request.stdin.close = close
    return request
  }
}

/// A response frame in a form tests compare easily.
enum Frame: Equatable {
  case stdout(String), stderr(String), stdoutClose, stderrClose, exit(Int32)

  init(_ response: ExecResponse) {
    if response.exited {
      self = .exit(response.result.exitCode)
    } else if response.hasStdout {
      self = response.stdout.close ? .stdoutClose : .stdout(String(decoding: response.stdout.data, as: UTF8.self))
    } else {
      self = response.stderr.close ? .stderrClose : .stderr(String(decoding: response.stderr.data, as: UTF8.self))
    }
  }
}
