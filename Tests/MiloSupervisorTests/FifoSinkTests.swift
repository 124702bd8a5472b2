import MiloSupervisor
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

private let t0 = Clock.t0
private let ms = Clock.ms

/// A sink whose reader closed with `unread` left in the FIFO, after the write that found it gone.
private func sinkWhoseReaderVanished(_ path: String, unread: String) -> FifoSink {
  let reader = FifoReader(path)
  var sink = FifoSink(path: path)
  sink.reconnectIfDue(now: t0)
  #expect(send(&sink, unread) == unread.utf8.count)
  reader.close()
  #expect(send(&sink, "x") == 0)  // EPIPE
  return sink
}

/// Writes `text` through the sink, returning the count it took.
private func send(_ sink: inout FifoSink, _ text: String) -> Int {
  Array(text.utf8).withUnsafeBytes { sink.write($0) }
}

@Suite struct FifoSinkTests {
  init() { _ = ignoreSigpipe }

  @Test func startsDisconnectedWithAnAttemptDueAtOnce() {
    let sink = FifoSink(path: "/nonexistent/fifo")
    #expect(sink.path == "/nonexistent/fifo")
    #expect(sink.fd == -1)
    #expect(sink.readerGone)
    #expect(!sink.isConnected)
    #expect(sink.reconnectDeadline == 0)
    #expect(sink.retryNanos == 50_000_000)
  }

  @Test func missingPathStaysDisconnectedAndRetriesLater() {
    var sink = FifoSink(path: "/nonexistent/milo/fifo")
    sink.reconnectIfDue(now: t0)
    #expect(!sink.isConnected)
    #expect(sink.fd == -1)
    #expect(sink.reconnectDeadline == t0 + 50 * ms)
    #expect(send(&sink, "lost?") == 0)
  }

  @Test func noReaderIsENXIOThenConnectsWhenTheReaderComes() {
    let dir = TempDir("milo-sink")
    let path = dir.makeFifo("out")
    var sink = FifoSink(path: path)
    sink.retryNanos = 10 * ms
    sink.reconnectIfDue(now: t0)
    #expect(!sink.isConnected)
    #expect(sink.reconnectDeadline == t0 + 10 * ms)
    let reader = FifoReader(path)
    sink.reconnectIfDue(now: t0 + 9 * ms)  // not due yet: no attempt
    #expect(!sink.isConnected)
    sink.reconnectIfDue(now: t0 + 10 * ms)
    #expect(sink.isConnected)
    #expect(!sink.readerGone)
    #expect(sink.fd >= 0)
    #expect(sink.reconnectDeadline == nil)
    #expect(send(&sink, "hi\n") == 3)
    #expect(reader.readText() == "hi\n")
    sink.close()
  }

  @Test func devNullConnectsAndTakesEverything() {
    var sink = FifoSink(path: "/dev/null")
    sink.reconnectIfDue(now: 0)
    #expect(sink.isConnected)
    let big = [UInt8](repeating: 0x41, count: 1 << 20)
    #expect(big.withUnsafeBytes { sink.write($0) } == 1 << 20)
    sink.close()
    #expect(sink.fd == -1)
    #expect(!sink.isConnected)
  }

  @Test func emptyWriteIsZero() {
    var sink = FifoSink(path: "/dev/null")
    sink.reconnectIfDue(now: 0)
    #expect([UInt8]().withUnsafeBytes { sink.write($0) } == 0)
    #expect(sink.isConnected)
    sink.close()
  }

  @Test func fullFifoIsAShortWriteAndStaysConnected() {
    let dir = TempDir("milo-sink")
    let path = dir.makeFifo("out")
    let reader = FifoReader(path)
    reader.setPipeSize(4096)
    var sink = FifoSink(path: path)
    sink.reconnectIfDue(now: t0)
    let payload = [UInt8](repeating: 0x61, count: 10_000)
    let first = payload.withUnsafeBytes { sink.write($0) }
    #expect(first > 0)
    #expect(first < 10_000)
    #expect(payload.withUnsafeBytes { sink.write(UnsafeRawBufferPointer(rebasing: $0[first...])) } == 0)
    #expect(sink.isConnected)
    #expect(reader.readAvailable().count == first)
    sink.close()
  }

  @Test func epipeMarksTheReaderGoneAndRetriesAtOnce() {
    let dir = TempDir("milo-sink")
    let path = dir.makeFifo("out")
    var reader = FifoReader(path)
    var sink = FifoSink(path: path)
    sink.reconnectIfDue(now: t0)
    #expect(send(&sink, "kept in the pipe\n") == 17)
    let fd = sink.fd
    reader.close()
    #expect(send(&sink, "x") == 0)  // EPIPE
    #expect(sink.readerGone)
    #expect(!sink.isConnected)
    #expect(sink.reconnectDeadline == 0)
    #expect(sink.fd == fd)  // the descriptor is kept
    // Without a reader the attempt fails (ENXIO) and waits retryNanos.
    sink.reconnectIfDue(now: t0 + 1 * ms)
    #expect(!sink.isConnected)
    #expect(sink.reconnectDeadline == t0 + 51 * ms)
    reader = FifoReader(path)
    sink.reconnectIfDue(now: t0 + 51 * ms)
    #expect(sink.isConnected)
    #expect(sink.fd == fd)  // same FIFO: the old descriptor stays
    #expect(send(&sink, "after\n") == 6)
    #expect(reader.readText() == "kept in the pipe\nafter\n")
    sink.close()
  }

  @Test func whatAVanishedReaderLeftIsTakenBack() {
    let dir = TempDir("milo-sink")
    let path = dir.makeFifo("out")
    var sink = sinkWhoseReaderVanished(path, unread: "unread\n")
    #expect(sink.readerVanished)
    let taken = sink.takeBackUnread()
    #expect(taken.map { String(decoding: $0, as: UTF8.self) } == "unread\n")
    #expect(!sink.readerVanished)
    let reader = FifoReader(path)
    sink.reconnectIfDue(now: t0 + 50 * ms)
    #expect(send(&sink, "next\n") == 5)
    #expect(reader.readText() == "next\n", "the taken-back bytes left the FIFO")
    sink.close()
  }

  /// A reader that came back before the relay noticed the old one vanish owns what is in the
  /// FIFO: taking it back would split those bytes between the two.
  @Test func nothingIsTakenBackFromAReaderThatIsAlreadyBack() {
    let dir = TempDir("milo-sink")
    let path = dir.makeFifo("out")
    var sink = sinkWhoseReaderVanished(path, unread: "unread\n")
    let reader = FifoReader(path)
    #expect(sink.takeBackUnread() == nil)
    #expect(!sink.readerVanished)
    sink.reconnectIfDue(now: t0 + 1 * ms)
    #expect(send(&sink, "next\n") == 5)
    #expect(reader.readText() == "unread\nnext\n")
    sink.close()
  }

  @Test func markReaderGoneThenReconnectKeepsTheDescriptor() {
    let dir = TempDir("milo-sink")
    let path = dir.makeFifo("out")
    let reader = FifoReader(path)
    var sink = FifoSink(path: path)
    sink.reconnectIfDue(now: t0)
    let fd = sink.fd
    sink.markReaderGone()
    #expect(!sink.isConnected)
    #expect(send(&sink, "dropped?") == 0)
    sink.reconnectIfDue(now: t0 + 50 * ms)
    #expect(sink.isConnected)
    #expect(sink.fd == fd)
    #expect(send(&sink, "ok\n") == 3)
    #expect(reader.readText() == "ok\n")
    sink.close()
  }

  @Test func replacedFifoIsSwitchedTo() {
    let dir = TempDir("milo-sink")
    let path = dir.makeFifo("out")
    var reader = FifoReader(path)
    var sink = FifoSink(path: path)
    sink.reconnectIfDue(now: t0)
    let oldFD = sink.fd
    reader.close()
    unlink(path)
    #expect(mkfifo(path, 0o600) == 0)
    #expect(send(&sink, "x") == 0)  // EPIPE on the old FIFO
    reader = FifoReader(path)
    sink.reconnectIfDue(now: t0 + 1 * ms)
    #expect(sink.isConnected)
    #expect(sink.fd != oldFD)
    #expect(send(&sink, "new\n") == 4)
    #expect(reader.readText() == "new\n")
    sink.close()
  }

  @Test func closeGivesTheReaderEOF() {
    let dir = TempDir("milo-sink")
    let path = dir.makeFifo("out")
    let reader = FifoReader(path)
    var sink = FifoSink(path: path)
    sink.reconnectIfDue(now: t0)
    #expect(send(&sink, "last\n") == 5)
    sink.close()
    #expect(sink.fd == -1)
    #expect(sink.readerGone)
    #expect(reader.readText() == "last\n")
    var byte: UInt8 = 0
    #expect(read(reader.fd, &byte, 1) == 0)
    sink.close()  // closing twice is harmless
    #expect(sink.fd == -1)
  }
}
