import MiloSys

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
/// While the reader is attached and taking bytes, a full buffer holds the application back
/// (the pipe is left unread); when the reader is absent or stalled for `stallNanos` the pipe is
/// drained at once, the oldest whole lines are dropped and a marker line reports the count.
/// Bytes are read straight into the buffer's ring and written from it, through pipes grown to
/// `pipeBytes`, so the steady state costs one read and about one write per pipeful.
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
  /// The `now` of the last `flush`: an idle deadline at or before it was already acted on.
  private var lastFlush: UInt64 = 0
  /// When the reader last accepted bytes.
  private var lastProgress: UInt64 = 0
  /// How long a full buffer may hold the application back while the reader is attached but not
  /// taking bytes; after that the relay reads on and drops the oldest lines instead.
  public var stallNanos: UInt64 = 1_000_000_000
  /// The drop marker being written, the drops it reports and how much of it was written.
  private var marker = DropMarker()
  /// True when the last flush stopped because the FIFO was full (EAGAIN).
  private var blockedOnWrite = false
  /// Bytes read from the container and bytes written to the FIFO, over the relay's life.
  public private(set) var bytesIn: UInt64 = 0
  public private(set) var bytesOut: UInt64 = 0
  /// What was delivered lately, to resend what a killed reader never wrote to its files.
  public private(set) var history = DeliveredHistory(capacity: StreamRelay.historyBytes)
  /// Older bytes to write before the buffer's: taken back from the FIFO, or sent again.
  private var resend: [UInt8] = []
  private var resendWritten = 0
  /// True from a reader vanishing until a new one attached and recovery was decided.
  private var recovering = false
  /// Readers that attached after one vanished, bytes sent again for them, and the restarts
  /// where what to resend could not be told (each reported by a marker line).
  public private(set) var readerRestarts = 0
  public private(set) var resentBytes = 0
  public private(set) var undecidedRecoveries = 0

  /// 256 KiB: Nomad's rotator buffers up to 64 KiB, and logmon reads 32 KiB at a time.
  public static let historyBytes = 256 << 10

  /// `pipeBytes` is the kernel buffer the relay asks for on the container's pipe and, up to
  /// `fifoPipeBytes`, on the FIFO (grown only, silently left as it is when the kernel refuses;
  /// 0 leaves both alone): larger pipes mean fewer reads, writes and wake-ups per byte.
  public init(
    name: String, input: Int32, sinkPath: String, capacity: Int, policy: RelayPolicy,
    pipeBytes: Int32 = StreamRelay.defaultPipeBytes
  ) {
    self.name = name
    self.input = input
    self.sink = FifoSink(path: sinkPath)
    self.sink.pipeBytes = min(pipeBytes, StreamRelay.fifoPipeBytes)
    self.buffer = LogBuffer(capacity: capacity)
    self.policy = policy
    Posix.setNonBlocking(input)
    if pipeBytes > 0 { Posix.growPipe(input, to: pipeBytes) }
  }

  /// 1 MiB: the largest pipe an unprivileged process may ask for by default
  /// (/proc/sys/fs/pipe-max-size).
  public static let defaultPipeBytes: Int32 = 1 << 20

  /// 128 KiB: the most the FIFO is grown to. What a vanished reader left unread in it is taken
  /// back from the end of `history`, and what remains must still hold every place the reader's
  /// files can end (`ReaderRecovery.maxReaderHold`) plus a tail to compare:
  /// `historyBytes - maxReaderHold` (160 KiB) leaves 32 KiB beyond a full FIFO.
  public static let fifoPipeBytes: Int32 = 128 << 10

  /// True once the input reached EOF and everything was written.
  public var isDrained: Bool { input < 0 && !hasPendingOutput }
  /// True when there are bytes the relay wants to write (including a drop marker not yet
  /// written: a line longer than the buffer can leave the buffer empty but a marker due).
  public var hasPendingOutput: Bool {
    !buffer.isEmpty || !marker.line.isEmpty || buffer.pendingDroppedBytes > 0 || resendWritten < resend.count
  }
  /// True when releasable bytes wait because the FIFO was full: only then is it worth polling
  /// the sink for POLLOUT (a held partial line would make POLLOUT fire in a busy loop).
  public var wantsWritable: Bool { blockedOnWrite && sink.isConnected && hasPendingOutput }

  /// Reads what the pipe has now into the buffer.
  ///
  /// While the reader is attached and taking bytes (see `stallNanos`) it reads only what fits,
  /// straight into the buffer, and leaves the rest in the pipe (back-pressure); otherwise it
  /// reads everything and the buffer drops its oldest lines when full. `scratch` is a reusable
  /// read buffer for the latter case when the buffer has less contiguous room than it.
  public mutating func readInput(now: UInt64, scratch: inout [UInt8]) {
    guard input >= 0 else { return }
    let fd = input
    while true {
      let holdBack = sink.isConnected && now &- lastProgress < stallNanos
      let room = buffer.contiguousFreeSpace
      let requested: Int
      let n: Int
      if holdBack || room >= scratch.count {
        requested = room
        guard requested > 0 else { return }
        n = buffer.fill(maximum: requested) { read(fd, $0.baseAddress, $0.count) }
      } else {
        requested = scratch.count
        n = scratch.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n > 0 { scratch.withUnsafeBytes { buffer.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) } }
      }
      if n > 0 {
        bytesIn += UInt64(n)
        lastInput = now
        if n < requested { return }
        continue
      }
      if n < 0 && errno == EINTR { continue }
      if n < 0 && errno == EAGAIN { return }
      close(fd)
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
    lastFlush = now
    blockedOnWrite = false
    if sink.readerVanished { takeBackFromVanishedReader() }
    sink.reconnectIfDue(now: now)
    guard sink.isConnected else { return }
    if recovering { recoverForNewReader() }
    while resendWritten < resend.count {
      let n = resend.withUnsafeBytes { deliver(UnsafeRawBufferPointer(rebasing: $0[resendWritten...])) }
      guard n > 0 else {
        blockedOnWrite = sink.isConnected
        return
      }
      resendWritten += n
      lastProgress = now
      if resendWritten == resend.count {
        resend = []
        resendWritten = 0
      }
    }
    while true {
      // Report drops before the bytes that followed them.
      marker.absorb(from: &buffer, stream: name, atLineStart: atLineStart)
      guard marker.isDue else { break }
      let line = marker.line
      let written = marker.written
      let n = line.withUnsafeBytes {
        deliver(UnsafeRawBufferPointer(rebasing: $0[written...]))
      }
      guard n > 0 else {
        blockedOnWrite = sink.isConnected
        return
      }
      if marker.advance(by: n) { atLineStart = true }
    }
    var limit = releasable(now: now, final: final)
    while limit > 0 {
      var wrote = 0
      // `deliver`, inline: the closure may not call a mutating method while `buffer` is borrowed.
      buffer.consumeContiguous(upTo: limit) { chunk in
        wrote = sink.write(chunk)
        if wrote > 0 {
          atLineStart = chunk[wrote - 1] == 0x0A
          history.record(UnsafeRawBufferPointer(rebasing: chunk[0..<wrote]))
        }
        return wrote
      }
      guard wrote > 0 else {
        blockedOnWrite = sink.isConnected
        return
      }
      bytesOut += UInt64(wrote)
      lastProgress = now
      limit -= wrote
    }
  }

  /// Writes to the FIFO and records what it took as delivered.
  private mutating func deliver(_ bytes: UnsafeRawBufferPointer) -> Int {
    let n = sink.write(bytes)
    if n > 0 {
      history.record(UnsafeRawBufferPointer(rebasing: bytes[0..<n]))
      atLineStart = bytes[n - 1] == 0x0A
    }
    return n
  }

  /// The reader went away: what it left in the FIFO was not delivered after all. Take it back,
  /// to be written first once a reader is back.
  private mutating func takeBackFromVanishedReader() {
    // A reader that is back already reads what is in the FIFO, in order: nothing to take back,
    // and its files cannot tell what the old one lost, so there is nothing to decide.
    guard let unread = sink.takeBackUnread() else { return }
    history.dropLast(unread.count)
    resend = unread + resend[resendWritten...]
    resendWritten = 0
    recovering = true
  }

  /// A reader attached after one vanished: resend what never reached the log files, exactly
  /// once, or say in a marker line that it cannot be told (see `ReaderRecovery`).
  private mutating func recoverForNewReader() {
    recovering = false
    readerRestarts += 1
    let delivered = history.bytes
    let tail = ReaderRecovery.newestLogTail(fifoPath: sink.path, limit: delivered.count)
    switch ReaderRecovery.decide(history: delivered, diskTail: tail, fromStart: history.isComplete) {
    case .resend(let count):
      guard count > 0 else { return }
      history.dropLast(count)
      resend = Array(delivered.suffix(count)) + resend[resendWritten...]
      resendWritten = 0
      resentBytes += count
    case .undecidable(let reason):
      undecidedRecoveries += 1
      let lineStart = delivered.last.map { $0 == 0x0A } ?? true
      let marker =
        (lineStart ? "" : "\n") + "[milo] the log reader of \(name) restarted and \(reason): up to the last "
        + "\(delivered.count) bytes it had read may be missing before this line\n"
      resend = Array(marker.utf8) + resend[resendWritten...]
      resendWritten = 0
    }
  }

  /// Back-pressure: whether to leave the container's pipe unread for now. That is the case while
  /// the buffer is nearly full and the reader is attached and took bytes within `stallNanos`,
  /// so a fast but bursty reader loses nothing; an absent or stalled reader never holds the
  /// application back longer than `stallNanos` (then the oldest lines are dropped).
  public func shouldPauseInput(now: UInt64) -> Bool {
    input >= 0 && buffer.count >= buffer.capacity - min(64 << 10, buffer.capacity / 2)
      && sink.isConnected && now &- lastProgress < stallNanos
  }

  /// The earliest time this relay needs to run again without an I/O event.
  ///
  /// An idle deadline that a flush at or after it already handled is not returned again: what
  /// is still held then waits for the reader (reconnect deadline), for POLLOUT, or for input
  /// (the rest of a UTF-8 sequence); returning it would make the caller's poll spin.
  public func nextDeadline(now: UInt64) -> UInt64? {
    var deadline: UInt64?
    if hasPendingOutput, let reconnect = sink.reconnectDeadline { deadline = reconnect }
    if policy.lineBuffered, input >= 0, buffer.count > buffer.completeLinesLength() {
      let due = lastInput &+ policy.idleFlushNanos
      if due > lastFlush { deadline = min(deadline ?? due, due) }
    }
    if shouldPauseInput(now: now) {
      let resume = lastProgress &+ stallNanos
      deadline = min(deadline ?? resume, resume)
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
