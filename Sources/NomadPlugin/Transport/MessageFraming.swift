import NIOCore

/// gRPC's length-prefixed message framing: each message is sent as a one-byte compressed flag,
/// a four-byte big-endian length and the message bytes, and may span any number of DATA frames.
enum MessageFraming {
  /// The size of the prefix before each message.
  static let prefixLength = 5

  /// Why a request's bytes cannot be read as gRPC messages.
  enum Failure: Error, Equatable {
    /// A message says it is compressed, but this transport negotiates no compression.
    case compressedMessage
    /// A message is longer than the configured limit.
    case messageTooLarge(length: Int, limit: Int)
    /// The request ended inside a message.
    case truncatedMessage(missing: Int)
  }

  /// Frames one uncompressed message.
  static func frame(_ message: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
    var framed = allocator.buffer(capacity: prefixLength + message.readableBytes)
    framed.writeInteger(UInt8(0))
    framed.writeInteger(UInt32(truncatingIfNeeded: message.readableBytes))
    framed.writeImmutableBuffer(message)
    return framed
  }
}

/// Reassembles length-prefixed messages from the DATA frames of one request stream.
struct MessageDeframer {
  /// The largest message accepted, in bytes.
  let maximumMessageLength: Int
  private var pending = ByteBuffer()

  init(maximumMessageLength: Int) {
    self.maximumMessageLength = maximumMessageLength
  }

  /// Adds the payload of one DATA frame.
  mutating func append(_ bytes: ByteBuffer) {
    if pending.readableBytes == 0 {
      pending = bytes
    } else {
      pending.writeImmutableBuffer(bytes)
    }
  }

  /// Returns the next complete message, or nil when more bytes are needed.
  mutating func next() throws(MessageFraming.Failure) -> ByteBuffer? {
    guard let flag = pending.getInteger(at: pending.readerIndex, as: UInt8.self),
      let length = pending.getInteger(at: pending.readerIndex + 1, as: UInt32.self)
    else { return nil }
    guard flag == 0 else { throw .compressedMessage }
    guard Int(length) <= maximumMessageLength else {
      throw .messageTooLarge(length: Int(length), limit: maximumMessageLength)
    }
    guard pending.readableBytes >= MessageFraming.prefixLength + Int(length) else { return nil }
    pending.moveReaderIndex(forwardBy: MessageFraming.prefixLength)
    guard let message = pending.readSlice(length: Int(length)) else { return nil }
    if pending.readableBytes == 0 {
      pending = ByteBuffer()
    } else if pending.readerIndex > 64 * 1024 {
      pending.discardReadBytes()
    }
    return message
  }

  /// Checks that the request did not end inside a message.
  func finish() throws(MessageFraming.Failure) {
    guard pending.readableBytes == 0 else {
      var missing = MessageFraming.prefixLength - pending.readableBytes
      if let length = pending.getInteger(at: pending.readerIndex + 1, as: UInt32.self) {
        missing = MessageFraming.prefixLength + Int(length) - pending.readableBytes
      }
      throw .truncatedMessage(missing: missing)
    }
  }
}
