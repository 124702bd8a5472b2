import MiloSupervisor
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// A relay from a real pipe into a real FIFO in a temp dir, with a clock the test drives.
final class RelayFixture {
  let dir = TempDir("milo-relay")
  var pipe = TestPipe()
  let fifo: String
  var relay: StreamRelay
  var scratch = [UInt8](repeating: 0, count: 64 << 10)

  init(
    name: String = "stdout", lineBuffered: Bool = true, capacity: Int = 1 << 20,
    idle: UInt64 = 50 * Clock.ms, cap: Int = 64 << 10, sinkPath: String? = nil,
    pipeBytes: Int32 = StreamRelay.defaultPipeBytes
  ) {
    _ = ignoreSigpipe
    fifo = dir.makeFifo(name)
    relay = StreamRelay(
      name: name, input: pipe.readFD, sinkPath: sinkPath ?? fifo, capacity: capacity,
      policy: RelayPolicy(lineBuffered: lineBuffered, idleFlushNanos: idle, partialLineCap: cap),
      pipeBytes: pipeBytes)
  }

  deinit {
    relay.closeAll()
    pipe.closeWrite()
  }

  /// The application writes `bytes`; the relay reads them at `now`.
  func feed(_ bytes: [UInt8], at now: UInt64) {
    pipe.write(bytes)
    relay.readInput(now: now, scratch: &scratch)
  }

  func feed(_ text: String, at now: UInt64) { feed(Array(text.utf8), at: now) }

  /// The relay reads what is left in the pipe at `now` (as after its next poll).
  func read(at now: UInt64) { relay.readInput(now: now, scratch: &scratch) }

  /// The application exits: EOF on the pipe, read at `now`.
  func endInput(at now: UInt64) {
    pipe.closeWrite()
    relay.readInput(now: now, scratch: &scratch)
  }

  func flush(at now: UInt64, final: Bool = false) { relay.flush(now: now, final: final) }
}

func marker(lines: Int, bytes: Int, stream: String = "stdout", newline: Bool = false) -> String {
  (newline ? "\n" : "")
    + "[milo] dropped \(lines) lines (\(bytes) bytes) of \(stream): the log reader was too slow or absent\n"
}

private let t0 = Clock.t0
private let ms = Clock.ms

@Suite struct StreamRelayTests {
  @Test func policyDefaults() {
    let policy = RelayPolicy(lineBuffered: true)
    #expect(policy.lineBuffered)
    #expect(policy.idleFlushNanos == 50_000_000)
    #expect(policy.partialLineCap == 65536)
  }

  @Test func completeLinesGoAtOnce() {
    let f = RelayFixture()
    let reader = FifoReader(f.fifo)
    f.feed("first\nsecond\n", at: t0)
    f.flush(at: t0)
    #expect(reader.readText() == "first\nsecond\n")
    #expect(f.relay.buffer.isEmpty)
    #expect(f.relay.bytesIn == 13)
    #expect(f.relay.bytesOut == 13)
    #expect(f.relay.nextDeadline(now: t0) == nil)
  }

  @Test func partialLineIsHeldThenReleasedAfterIdle() {
    let f = RelayFixture()
    let reader = FifoReader(f.fifo)
    f.feed("hello\nprompt> ", at: t0)
    f.flush(at: t0)
    #expect(reader.readText() == "hello\n")
    #expect(f.relay.nextDeadline(now: t0) == t0 + 50 * ms)
    f.flush(at: t0 + 49 * ms)
    #expect(reader.readText() == "")
    #expect(f.relay.buffer.count == 8)
    f.flush(at: t0 + 50 * ms)
    #expect(reader.readText() == "prompt> ")
    #expect(f.relay.buffer.isEmpty)
    #expect(f.relay.nextDeadline(now: t0 + 50 * ms) == nil)
    // The answer's line continues where the prompt left off.
    f.feed("yes\n", at: t0 + 70 * ms)
    f.flush(at: t0 + 70 * ms)
    #expect(reader.readText() == "yes\n")
  }

  @Test func partialLineGoesWithItsNewline() {
    let f = RelayFixture()
    let reader = FifoReader(f.fifo)
    f.feed("abc", at: t0)
    f.flush(at: t0 + 10 * ms)
    #expect(reader.readText() == "")
    f.feed("def\nghi", at: t0 + 20 * ms)
    f.flush(at: t0 + 20 * ms)
    #expect(reader.readText() == "abcdef\n")
    #expect(f.relay.buffer.count == 3)
  }

  @Test func idleTimeCountsFromTheLastInput() {
    let f = RelayFixture()
    let reader = FifoReader(f.fifo)
    f.feed("ab", at: t0)
    f.flush(at: t0)
    #expect(f.relay.nextDeadline(now: t0) == t0 + 50 * ms)
    f.feed("cd", at: t0 + 40 * ms)
    #expect(f.relay.nextDeadline(now: t0 + 40 * ms) == t0 + 90 * ms)
    f.flush(at: t0 + 60 * ms)
    #expect(reader.readText() == "")
    f.flush(at: t0 + 90 * ms)
    #expect(reader.readText() == "abcd")
  }

  @Test func customIdleTime() {
    let f = RelayFixture(idle: 5 * ms)
    let reader = FifoReader(f.fifo)
    f.feed("x", at: t0)
    f.flush(at: t0 + 4 * ms)
    #expect(reader.readText() == "")
    f.flush(at: t0 + 5 * ms)
    #expect(reader.readText() == "x")
  }

  @Test func partialLineIsReleasedAtTheCap() {
    let f = RelayFixture(cap: 8)
    let reader = FifoReader(f.fifo)
    f.feed("done\n1234567", at: t0)
    f.flush(at: t0)
    #expect(reader.readText() == "done\n")
    f.feed("8", at: t0 + 1 * ms)
    f.flush(at: t0 + 1 * ms)
    #expect(reader.readText() == "12345678")
    #expect(f.relay.buffer.isEmpty)
  }

  @Test func capReleaseDoesNotSplitAUTF8Sequence() {
    let f = RelayFixture(cap: 4)
    let reader = FifoReader(f.fifo)
    f.feed(Array("abc".utf8) + [0xC3], at: t0)
    f.flush(at: t0)
    #expect(reader.readAvailable() == Array("abc".utf8))
    f.feed([0xA9], at: t0 + 1 * ms)
    f.flush(at: t0 + 1 * ms)
    #expect(reader.readAvailable() == [])
    f.flush(at: t0 + 51 * ms)
    #expect(reader.readText() == "é")
  }

  @Test func idleFlushDoesNotSplitAUTF8Sequence() {
    let f = RelayFixture()
    let reader = FifoReader(f.fifo)
    f.feed(Array("caf".utf8) + [0xC3], at: t0)
    f.flush(at: t0 + 50 * ms)
    #expect(reader.readAvailable() == Array("caf".utf8))
    #expect(f.relay.buffer.count == 1)
    f.feed([0xA9] + Array("!".utf8), at: t0 + 100 * ms)
    f.flush(at: t0 + 100 * ms)
    #expect(reader.readAvailable() == [])
    f.flush(at: t0 + 150 * ms)
    #expect(reader.readAvailable() == [0xC3, 0xA9, 0x21])
  }

  @Test func fourByteSequenceSplitAcrossThreeReads() {
    let f = RelayFixture()
    let reader = FifoReader(f.fifo)
    let emoji: [UInt8] = [0xF0, 0x9F, 0x98, 0x80]
    f.feed([0x3E, emoji[0]], at: t0)
    f.flush(at: t0 + 50 * ms)
    #expect(reader.readAvailable() == [0x3E])
    f.feed([emoji[1], emoji[2]], at: t0 + 60 * ms)
    f.flush(at: t0 + 110 * ms)
    #expect(reader.readAvailable() == [])
    f.feed([emoji[3]], at: t0 + 120 * ms)
    f.flush(at: t0 + 170 * ms)
    #expect(reader.readAvailable() == emoji)
  }

  @Test func stderrIsForwardedImmediately() {
    let f = RelayFixture(name: "stderr", lineBuffered: false)
    let reader = FifoReader(f.fifo)
    f.feed("Exception in thread", at: t0)
    f.flush(at: t0)
    #expect(reader.readText() == "Exception in thread")
    #expect(f.relay.nextDeadline(now: t0) == nil)
    f.feed(" \"main\"\n\tat Foo", at: t0 + 1)
    f.flush(at: t0 + 1)
    #expect(reader.readText() == " \"main\"\n\tat Foo")
  }

  @Test func stderrKeepsAUTF8SequenceTogether() {
    let f = RelayFixture(name: "stderr", lineBuffered: false)
    let reader = FifoReader(f.fifo)
    f.feed([0x78, 0xE2, 0x82], at: t0)
    f.flush(at: t0)
    #expect(reader.readAvailable() == [0x78])
    f.feed([0xAC], at: t0 + 1)
    f.flush(at: t0 + 1)
    #expect(reader.readText() == "€")
  }

  @Test func binaryBytesRoundTripUnchanged() {
    let f = RelayFixture()
    let reader = FifoReader(f.fifo)
    var payload = (0...255).map { UInt8($0) }
    payload += Array("\u{1B}[31mred\u{1B}[0m\n".utf8)
    payload += [0xC3, 0x28, 0x00, 0x00, 0xFE, 0x0A, 0x0D, 0x0A]
    payload += Array("no newline at the end".utf8) + [0xE2, 0x82]
    f.feed(payload, at: t0)
    f.endInput(at: t0 + 1)
    #expect(f.relay.input == -1)
    f.flush(at: t0 + 1)
    #expect(reader.readAvailable() == payload)
    #expect(f.relay.isDrained)
    #expect(f.relay.bytesIn == UInt64(payload.count))
    #expect(f.relay.bytesOut == UInt64(payload.count))
  }

  @Test func largeInputIsRelayedExactly() {
    let f = RelayFixture()
    let reader = FifoReader(f.fifo)
    var sent: [UInt8] = []
    var received: [UInt8] = []
    var now = t0
    for round in 0..<40 {
      var chunk: [UInt8] = []
      for line in 0..<100 {
        chunk += Array("round \(round) line \(line) \(String(repeating: "x", count: line))\n".utf8)
      }
      sent += chunk
      f.feed(chunk, at: now)
      f.flush(at: now)
      received += reader.readAvailable()
      now += ms
    }
    f.flush(at: now)
    received += reader.readAvailable()
    #expect(received.count == sent.count)
    #expect(received == sent)
    #expect(f.relay.buffer.totalDroppedBytes == 0)
  }

  @Test func eofReleasesTheHeldPartialLine() {
    let f = RelayFixture()
    let reader = FifoReader(f.fifo)
    f.feed(Array("last words".utf8) + [0xC3], at: t0)
    f.flush(at: t0)
    #expect(reader.readAvailable() == [])
    #expect(!f.relay.isDrained)
    f.endInput(at: t0 + 1)
    f.flush(at: t0 + 1)
    #expect(reader.readAvailable() == Array("last words".utf8) + [0xC3])
    #expect(f.relay.isDrained)
  }

  @Test func finalFlushReleasesEverything() {
    let f = RelayFixture()
    let reader = FifoReader(f.fifo)
    f.feed("partial", at: t0)
    f.flush(at: t0, final: true)
    #expect(reader.readText() == "partial")
  }

  @Test func devNullSinkTakesEverything() {
    let f = RelayFixture(sinkPath: "/dev/null")
    f.feed("to nowhere\npartial", at: t0)
    f.flush(at: t0)
    #expect(f.relay.sink.isConnected)
    #expect(f.relay.bytesOut == 11)
    f.flush(at: t0 + 50 * ms)
    #expect(f.relay.buffer.isEmpty)
    #expect(f.relay.bytesOut == f.relay.bytesIn)
    #expect(!f.relay.hasPendingOutput)
  }

  @Test func readerAbsentAtStartThenAppears() {
    let f = RelayFixture()
    f.feed("early line\n", at: t0)
    f.flush(at: t0)
    #expect(!f.relay.sink.isConnected)
    #expect(f.relay.buffer.count == 11)
    #expect(f.relay.hasPendingOutput)
    #expect(f.relay.sink.reconnectDeadline == t0 + 50 * ms)
    #expect(f.relay.nextDeadline(now: t0) == t0 + 50 * ms)
    let reader = FifoReader(f.fifo)
    f.flush(at: t0 + 10 * ms)  // the next attempt is not due yet
    #expect(reader.readText() == "")
    f.flush(at: t0 + 50 * ms)
    #expect(f.relay.sink.isConnected)
    #expect(reader.readText() == "early line\n")
    #expect(f.relay.nextDeadline(now: t0 + 50 * ms) == nil)
    #expect(f.relay.buffer.totalDroppedBytes == 0)
  }

  @Test func readerClosesAndReopensTheSameFifoWithoutLoss() {
    let f = RelayFixture()
    var reader = FifoReader(f.fifo)
    f.feed("one\n", at: t0)
    f.flush(at: t0)
    let fd = f.relay.sink.fd
    // The reader goes away without reading "one\n": it stays in the kernel pipe.
    reader.close()
    f.feed("two\n", at: t0 + 1 * ms)
    f.flush(at: t0 + 1 * ms)  // EPIPE
    #expect(!f.relay.sink.isConnected)
    #expect(f.relay.sink.readerGone)
    #expect(f.relay.buffer.count == 4)
    #expect(f.relay.sink.reconnectDeadline == 0)
    f.feed("three\n", at: t0 + 2 * ms)
    reader = FifoReader(f.fifo)
    f.flush(at: t0 + 3 * ms)
    #expect(f.relay.sink.isConnected)
    #expect(f.relay.sink.fd == fd)
    #expect(reader.readText() == "one\ntwo\nthree\n")
    #expect(f.relay.buffer.totalDroppedBytes == 0)
  }

  @Test func newFifoAtThePathIsOpenedInstead() {
    let f = RelayFixture()
    var reader = FifoReader(f.fifo)
    f.feed("old pipe\n", at: t0)
    f.flush(at: t0)
    let oldFD = f.relay.sink.fd
    reader.close()
    // A restarted logmon makes a new FIFO at the same path.
    unlink(f.fifo)
    #expect(mkfifo(f.fifo, 0o600) == 0)
    f.feed("new pipe\n", at: t0 + 1 * ms)
    f.flush(at: t0 + 1 * ms)  // EPIPE on the old FIFO
    #expect(!f.relay.sink.isConnected)
    reader = FifoReader(f.fifo)
    f.flush(at: t0 + 2 * ms)
    #expect(f.relay.sink.isConnected)
    #expect(f.relay.sink.fd != oldFD)
    #expect(reader.readText() == "new pipe\n")
  }

  @Test func overflowWhileReaderIsAbsentWritesOneExactMarker() {
    let f = RelayFixture(capacity: 20)
    let lines = (1...10).map { "L\(String(format: "%02d", $0))\n" }  // 4 bytes each
    f.feed(lines[0..<6].joined(), at: t0)
    f.flush(at: t0)
    f.feed(lines[6..<10].joined(), at: t0 + 1 * ms)
    f.flush(at: t0 + 1 * ms)
    #expect(f.relay.buffer.pendingDroppedLines == 5)
    #expect(f.relay.buffer.pendingDroppedBytes == 20)
    let reader = FifoReader(f.fifo)
    f.flush(at: t0 + 50 * ms)
    #expect(reader.readText() == marker(lines: 5, bytes: 20) + "L06\nL07\nL08\nL09\nL10\n")
    #expect(f.relay.buffer.totalDroppedLines == 5)
    #expect(f.relay.buffer.totalDroppedBytes == 20)
    // Later drops get their own marker, counted from zero.
    reader.close()
    // Until a write fails the reader counts as attached: the relay reads only what fits (20
    // bytes) and leaves the rest in the pipe; after the EPIPE it reads on and drops.
    f.feed("L11\nL12\nL13\nL14\nL15\nL16\nL17\n", at: t0 + 60 * ms)
    #expect(f.relay.buffer.count == 20 && f.relay.buffer.totalDroppedBytes == 20)
    f.flush(at: t0 + 60 * ms)  // EPIPE
    f.read(at: t0 + 60 * ms)
    let again = FifoReader(f.fifo)
    f.flush(at: t0 + 61 * ms)
    #expect(again.readText() == marker(lines: 2, bytes: 8) + "L13\nL14\nL15\nL16\nL17\n")
    #expect(f.relay.buffer.totalDroppedLines == 7)
    #expect(f.relay.buffer.totalDroppedBytes == 28)
  }

  @Test func markerAfterAPartialLineStartsOnANewLine() {
    let f = RelayFixture(capacity: 20)
    var reader = FifoReader(f.fifo)
    f.feed("prompt", at: t0)
    f.flush(at: t0 + 50 * ms)
    reader.close()  // "prompt" stays in the pipe
    f.feed("aaaa\nbbbb\ncccc\ndddd\neeee\nffff\n", at: t0 + 60 * ms)  // reads 20 bytes
    f.flush(at: t0 + 60 * ms)  // EPIPE
    f.read(at: t0 + 60 * ms)  // the other 10: drops 2 lines
    reader = FifoReader(f.fifo)
    f.flush(at: t0 + 61 * ms)
    #expect(
      reader.readText()
        == "prompt" + marker(lines: 2, bytes: 10, newline: true) + "cccc\ndddd\neeee\nffff\n")
  }

  @Test func lineLongerThanTheBufferIsReportedExactly() {
    let f = RelayFixture(capacity: 16)
    let long = String(repeating: "x", count: 30) + "\n"
    f.feed("short\n" + long + "tail\n", at: t0)
    f.endInput(at: t0 + 1)
    #expect(f.relay.buffer.pendingDroppedLines == 2)
    #expect(f.relay.buffer.pendingDroppedBytes == 37)
    #expect(!f.relay.isDrained)
    let reader = FifoReader(f.fifo)
    f.flush(at: t0 + 50 * ms, final: true)
    #expect(reader.readText() == marker(lines: 2, bytes: 37) + "tail\n")
    #expect(f.relay.isDrained)
  }

  @Test func markerIsNotLostWhenADropEmptiesTheBuffer() {
    let f = RelayFixture(capacity: 16)
    f.feed(String(repeating: "y", count: 20) + "\n", at: t0)
    f.flush(at: t0)
    #expect(f.relay.buffer.isEmpty)
    #expect(f.relay.hasPendingOutput)
    #expect(f.relay.nextDeadline(now: t0) == t0 + 50 * ms)
    f.endInput(at: t0 + 1)
    #expect(!f.relay.isDrained)
    let reader = FifoReader(f.fifo)
    f.flush(at: t0 + 50 * ms, final: true)
    #expect(reader.readText() == marker(lines: 1, bytes: 21))
    #expect(f.relay.isDrained)
  }

  @Test func slowReaderGetsOneMarkerWithAllDropsBeforeTheKeptLines() {
    let f = RelayFixture(capacity: 64, pipeBytes: 0)  // keeps the reader's small FIFO
    let reader = FifoReader(f.fifo)
    reader.setPipeSize(4096)
    // Fill the FIFO from another writer until it takes nothing more.
    let filler = open(f.fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
    #expect(filler >= 0)
    var filled = 0
    let block = [UInt8](repeating: 0x46, count: 256)
    for size in [256, 1] {
      while block.withUnsafeBytes({ write(filler, $0.baseAddress, size) }) == size { filled += size }
    }
    close(filler)
    #expect(filled >= 4096)

    f.feed(String(repeating: "bbbbbbb\n", count: 8), at: t0)
    f.flush(at: t0)
    #expect(f.relay.wantsWritable)
    #expect(f.relay.buffer.count == 64)
    f.feed(String(repeating: "ccccccc\n", count: 2), at: t0 + 1 * ms)  // drops 2 lines
    f.flush(at: t0 + 1 * ms)
    f.feed(String(repeating: "ddddddd\n", count: 3), at: t0 + 2 * ms)  // drops 3 more
    f.flush(at: t0 + 2 * ms)
    #expect(f.relay.wantsWritable)

    let fill = reader.readAvailable()
    #expect(fill == [UInt8](repeating: 0x46, count: filled))
    f.flush(at: t0 + 3 * ms)
    #expect(!f.relay.wantsWritable)
    #expect(
      reader.readText()
        == marker(lines: 5, bytes: 40) + String(repeating: "bbbbbbb\n", count: 3)
        + String(repeating: "ccccccc\n", count: 2) + String(repeating: "ddddddd\n", count: 3))
    #expect(f.relay.buffer.totalDroppedLines == 5)
    #expect(f.relay.buffer.totalDroppedBytes == 40)
  }

  @Test func fullFifoKeepsBytesUntilTheReaderCatchesUp() {
    let f = RelayFixture(pipeBytes: 0)  // keeps the reader's small FIFO
    let reader = FifoReader(f.fifo)
    reader.setPipeSize(4096)
    let line = String(repeating: "z", count: 99) + "\n"
    let text = String(repeating: line, count: 100)  // 10000 bytes, more than the pipe holds
    f.feed(text, at: t0)
    f.flush(at: t0)
    #expect(f.relay.wantsWritable)
    #expect(f.relay.buffer.count > 0)
    var received = reader.readAvailable()
    var now = t0
    while f.relay.hasPendingOutput && now < t0 + 100 * ms {
      now += ms
      f.flush(at: now)
      received += reader.readAvailable()
    }
    #expect(String(decoding: received, as: UTF8.self) == text)
    #expect(!f.relay.wantsWritable)
    #expect(f.relay.buffer.totalDroppedBytes == 0)
  }

  @Test func heldPartialLineDoesNotAskForPollout() {
    let f = RelayFixture()
    let reader = FifoReader(f.fifo)
    f.feed("waiting", at: t0)
    f.flush(at: t0)
    #expect(reader.readText() == "")
    #expect(f.relay.hasPendingOutput)
    #expect(!f.relay.wantsWritable)
  }

  @Test func idleDeadlineIsNotReturnedAgainOnceHandled() {
    // Reader absent: after the idle flush time, the relay waits for the reconnect deadline,
    // not for an idle deadline in the past (which would make the supervisor's poll spin).
    let f = RelayFixture()
    f.feed("prompt> ", at: t0)
    f.flush(at: t0)
    #expect(f.relay.nextDeadline(now: t0) == t0 + 50 * ms)
    f.flush(at: t0 + 50 * ms)
    #expect(!f.relay.sink.isConnected)
    #expect(f.relay.nextDeadline(now: t0 + 50 * ms) == t0 + 100 * ms)
    // New input arms a new idle deadline.
    f.feed("more", at: t0 + 60 * ms)
    #expect(f.relay.nextDeadline(now: t0 + 60 * ms) == t0 + 100 * ms)
    f.flush(at: t0 + 100 * ms)
    #expect(f.relay.nextDeadline(now: t0 + 100 * ms) == t0 + 110 * ms)
  }

  @Test func incompleteUTF8TailDoesNotKeepAPastDeadline() {
    let f = RelayFixture()
    let reader = FifoReader(f.fifo)
    f.feed([0x61, 0xC3], at: t0)
    f.flush(at: t0 + 50 * ms)
    #expect(reader.readAvailable() == [0x61])
    #expect(f.relay.buffer.count == 1)
    #expect(f.relay.nextDeadline(now: t0 + 50 * ms) == nil)
  }

  @Test func closeAllClosesBothEnds() {
    let f = RelayFixture()
    let reader = FifoReader(f.fifo)
    f.feed("bye\n", at: t0)
    f.flush(at: t0)
    f.relay.closeAll()
    #expect(f.relay.input == -1)
    #expect(f.relay.sink.fd == -1)
    #expect(reader.readText() == "bye\n")
    // With the only writer closed, the reader sees EOF.
    var byte: UInt8 = 0
    #expect(read(reader.fd, &byte, 1) == 0)
  }
}
