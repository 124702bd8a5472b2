import MiloSupervisor
import MiloSys
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

private let t0 = Clock.t0
private let ms = Clock.ms

/// F_GETPIPE_SZ: the kernel buffer of a pipe or FIFO.
private func pipeSize(_ fd: Int32) -> Int32 { fcntl(fd, 1032 /* F_GETPIPE_SZ */) }

/// What an unprivileged process may grow a pipe to (root may go further).
private var expectedGrownSize: Int32 {
  let text = Posix.readText("/proc/sys/fs/pipe-max-size") ?? ""
  let limit = Int32(String(text.filter(\.isNumber))) ?? (1 << 20)
  return getuid() == 0 ? StreamRelay.defaultPipeBytes : min(StreamRelay.defaultPipeBytes, limit)
}

@Suite struct StreamRelayBackPressureTests {
  /// An attached reader that keeps taking bytes holds the application back: the relay reads
  /// only what its buffer has room for and leaves the rest in the pipe, dropping nothing, even
  /// when each write is much larger than the buffer (which then wraps around its end).
  @Test func anAttachedReaderHoldsTheApplicationBackInsteadOfDropping() {
    let f = RelayFixture(capacity: 1000)
    let reader = FifoReader(f.fifo)
    f.feed("hello\n", at: t0)
    f.flush(at: t0)  // connects; the reader took bytes at t0
    var sent = Array("hello\n".utf8)
    var received = reader.readAvailable()
    var now = t0
    for round in 0..<20 {
      var chunk: [UInt8] = []
      for line in 0..<40 {
        chunk += Array("r\(round) l\(line) \(String(repeating: "y", count: (round * 7 + line) % 90))\n".utf8)
      }
      sent += chunk
      f.pipe.write(chunk)
      // Read, write, let the reader drain, until this chunk is through.
      var rounds = 0
      while received.count < sent.count && rounds < 1000 {
        now += ms
        f.relay.readInput(now: now, scratch: &f.scratch)
        #expect(f.relay.buffer.count <= 1000)
        #expect(f.relay.buffer.totalDroppedBytes == 0)
        if f.relay.buffer.count == 1000 { #expect(f.relay.shouldPauseInput(now: now)) }
        f.flush(at: now)
        received += reader.readAvailable()
        rounds += 1
      }
    }
    #expect(received == sent)
    #expect(f.relay.bytesIn == UInt64(sent.count) && f.relay.bytesOut == UInt64(sent.count))
  }

  /// Within `stallNanos` of the reader's last progress, a burst larger than the buffer is read
  /// only as far as the buffer has room (the rest waits in the pipe); past it, the relay reads
  /// on and drops the oldest whole lines, reported by one exact marker.
  @Test func aStalledReaderNoLongerHoldsTheApplicationBack() {
    let f = RelayFixture(capacity: 64)
    let reader = FifoReader(f.fifo)
    f.feed("start\n", at: t0)
    f.flush(at: t0)
    #expect(reader.readText() == "start\n")
    f.feed(String(repeating: "123456789\n", count: 20), at: t0 + 1 * ms)
    #expect(f.relay.buffer.count == 64 && f.relay.buffer.totalDroppedBytes == 0)
    #expect(f.relay.shouldPauseInput(now: t0 + 1 * ms))
    #expect(f.relay.shouldPauseInput(now: t0 + 999 * ms))
    // The reader took nothing for a second: read the other 136 bytes, keep the newest lines.
    let later = t0 + 1000 * ms
    #expect(!f.relay.shouldPauseInput(now: later))
    f.relay.readInput(now: later, scratch: &f.scratch)
    #expect(f.relay.buffer.count == 60)
    #expect(f.relay.buffer.totalDroppedLines == 14 && f.relay.buffer.totalDroppedBytes == 140)
    f.flush(at: later)
    #expect(reader.readText() == marker(lines: 14, bytes: 140) + String(repeating: "123456789\n", count: 6))
    #expect(f.relay.bytesIn == 206)
  }

  @Test func theContainerPipeAndTheFifoAreGrown() {
    let f = RelayFixture()
    let reader = FifoReader(f.fifo)
    let before = pipeSize(reader.fd)
    #expect(pipeSize(f.relay.input) == expectedGrownSize)
    f.feed("x\n", at: t0)
    f.flush(at: t0)
    #expect(f.relay.sink.isConnected)
    // The FIFO is grown no further than what a reader's take-back leaves the history room for.
    #expect(pipeSize(reader.fd) == max(before, min(expectedGrownSize, StreamRelay.fifoPipeBytes)))
    #expect(reader.readText() == "x\n")
  }

  @Test func pipeBytesZeroLeavesThePipesAlone() {
    let f = RelayFixture(pipeBytes: 0)
    let reader = FifoReader(f.fifo)
    reader.setPipeSize(4096)
    #expect(pipeSize(f.relay.input) == 65536)
    f.feed("x\n", at: t0)
    f.flush(at: t0)
    #expect(pipeSize(reader.fd) == 4096)
    #expect(reader.readText() == "x\n")
  }
}
