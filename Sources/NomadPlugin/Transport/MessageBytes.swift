import GRPCCore
import NIOCore

/// One serialized gRPC message as the transport hands it to GRPCCore and takes it back: a
/// `ByteBuffer` whose readable bytes are the message, so no copy is needed in either direction.
public struct MessageBytes: GRPCContiguousBytes, Hashable, Sendable {
  /// The message; its readable bytes are all of it.
  public var buffer: ByteBuffer

  /// Wraps a buffer whose readable bytes are one message.
  public init(_ buffer: ByteBuffer) {
    self.buffer = buffer
  }

  public init(repeating byte: UInt8, count: Int) {
    self.buffer = ByteBuffer(repeating: byte, count: count)
  }

  public init(_ sequence: some Sequence<UInt8>) {
    self.buffer = ByteBuffer(bytes: sequence)
  }

  public var count: Int { buffer.readableBytes }

  public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try buffer.withUnsafeReadableBytes(body)
  }

  public mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
    try buffer.withUnsafeMutableReadableBytes(body)
  }
}
