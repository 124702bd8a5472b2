#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// How a stream's bytes are released to the log reader.
public struct RelayPolicy: Sendable {
  /// Hold a trailing partial line until its newline, `idleFlushNanos` or `partialLineCap`.
  public var lineBuffered: Bool
  /// How long a partial line may wait for its newline.
  public var idleFlushNanos: UInt64
  /// How large a partial line may grow before it is released anyway.
  public var partialLineCap: Int

  public init(lineBuffered: Bool, idleFlushNanos: UInt64 = 50_000_000, partialLineCap: Int = 64 << 10) {
    self.lineBuffered = lineBuffered
    self.idleFlushNanos = idleFlushNanos
    self.partialLineCap = partialLineCap
  }
}

/// Relays one container stream (a pipe) into one log FIFO through a bounded `LogBuffer`.
///
/// The pipe is always drained at once, so the application never blocks on a slow reader; when
/// the buffer is full the oldest whole lines are dropped and a marker line reports the count.
public struct StreamRelay: Sendable {
  /// `stdout` or `stderr`, used in the drop marker.
  public let name: String
  /// The read end of the container's pipe, or -1 once it reached EOF.
  public private(set) var input: Int32
  public var sink: FifoSink
  public internal(set) var buffer: LogBuffer
  public let policy: RelayPolicy
  /// Whether the bytes already written end at a line boundary.
  private var atLineStart = true
  private var lastInput: UInt64 = 0
  private var pendingMarker: [UInt8] = []
  /// Bytes read from the container and bytes written to the FIFO, over the relay's life.
  public private(set) var bytesIn: UInt64 = 0
  public private(set) var bytesOut: UInt64 = 0

  public init(name: String, input: Int32, sinkPath: String, capacity: Int, policy: RelayPolicy) {
    self.name = name
    self.input = input
    self.sink = FifoSink(path: sinkPath)
    self.buffer = LogBuffer(capacity: capacity)
    self.policy = policy
    Posix.setNonBlocking(input)
  }

  /// True once the input reached EOF and everything was written.
  public var isDrained: Bool { input < 0 && buffer.isEmpty && pendingMarker.isEmpty }
  /// True when there are bytes the relay wants to write.
  public var hasPendingOutput: Bool { !buffer.isEmpty || !pendingMarker.isEmpty }

  /// Reads everything the pipe has now into the buffer. `scratch` is a reusable read buffer.
  public mutating func readInput(now: UInt64, scratch: inout [UInt8]) {
    guard input >= 0 else { return }
    while true {
      let n = scratch.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
      if n > 0 {
        scratch.withUnsafeBytes { buffer.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        bytesIn += UInt64(n)
        lastInput = now
        if n < scratch.count { return }
        continue
      }
      if n < 0 && errno == EINTR { continue }
      if n < 0 && errno == EAGAIN { return }
      close(input)
      input = -1
      return
    }
  }

  /// How many buffered bytes the policy releases now.
  func releasable(now: UInt64, final: Bool) -> Int {
    let total = buffer.count
    guard total > 0 else { return 0 }
    if final || input < 0 { return total }
    let complete = policy.lineBuffered ? buffer.completeLinesLength() : 0
    if policy.lineBuffered && complete == total { return total }
    let partial = total - complete
    let partialDue =
      !policy.lineBuffered || partial >= policy.partialLineCap
      || now &- lastInput >= policy.idleFlushNanos
    guard partialDue else { return complete }
    return max(complete, buffer.utf8SafeLength())
  }

  /// Writes what the policy allows to the FIFO (reconnecting if needed).
  public mutating func flush(now: UInt64, final: Bool = false) {
    sink.reconnectIfDue(now: now)
    guard sink.isConnected else { return }
    if pendingMarker.isEmpty, let marker = buffer.takeDropMarker(stream: name, atLineStart: atLineStart) {
      pendingMarker = marker
    }
    while !pendingMarker.isEmpty {
      let n = pendingMarker.withUnsafeBytes { sink.write($0) }
      guard n > 0 else { return }
      pendingMarker.removeFirst(n)
      if pendingMarker.isEmpty { atLineStart = true }
    }
    var limit = releasable(now: now, final: final)
    while limit > 0 {
      var wrote = 0
      buffer.consume { raw in
        let chunk = UnsafeRawBufferPointer(rebasing: raw[0..<limit])
        wrote = sink.write(chunk)
        if wrote > 0 { atLineStart = chunk[wrote - 1] == 0x0A }
        return wrote
      }
      guard wrote > 0 else { return }
      bytesOut += UInt64(wrote)
      limit -= wrote
    }
  }

  /// The earliest time this relay needs to run again without an I/O event.
  public func nextDeadline(now: UInt64) -> UInt64? {
    var deadline: UInt64?
    if hasPendingOutput, let reconnect = sink.reconnectDeadline { deadline = reconnect }
    if policy.lineBuffered, input >= 0, buffer.count > buffer.completeLinesLength() {
      let due = lastInput &+ policy.idleFlushNanos
      deadline = min(deadline ?? due, due)
    }
    return deadline
  }

  /// Closes the input (if still open) and the FIFO.
  public mutating func closeAll() {
    if input >= 0 { close(input) }
    input = -1
    sink.close()
  }
}
