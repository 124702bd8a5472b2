import Foundation
import MiloSupervisor
import MiloSys
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A logmon-like reader on its own thread: opens a FIFO for reading with a blocking `open` (which
/// waits for the first writer, as logmon does), or takes an already open descriptor (a pipe), then
/// copies until EOF with non-blocking reads of `readSize` bytes and `poll` in between (logmon's
/// loop, 32 KiB reads like Go's `io.Copy`). The bytes are counted and discarded.
///
/// It records the monotonic time of the first and last byte, and with `timestamps` parses lines
/// `ts <wall-clock nanos>` and records, per line, the wall-clock arrival time minus the stamp.
final class StreamDrain: Sendable {
  struct Options: Sendable {
    var readSize = 32 * 1024
    var timestamps = false
    /// How many leading bytes to keep (diagnostics, error text).
    var keepHead = 4096
    /// Called on the reader thread the moment EOF is read (before `finished` is set).
    var onEOF: (@Sendable () -> Void)?
  }

  let label: String
  let opened = OnceFlag()
  let finished = OnceFlag()
  private let firstByte = Atomic<UInt64>(0)
  private let lastByte = Atomic<UInt64>(0)
  private let byteCount = Atomic<Int>(0)
  private let pollCount = Atomic<Int>(0)
  private let pollNanos = Atomic<UInt64>(0)
  private let interrupted = Atomic<Bool>(false)
  private let results = Mutex<(latencies: [Int64], head: [UInt8], error: String?)>(([], [], nil))
  private let wake: (read: Int32, write: Int32)
  private let path: String?

  /// Reads the FIFO at `path` (opened on the reader thread, blocking until a writer appears).
  init(fifo path: String, label: String, options: Options = Options()) throws {
    self.label = label
    self.path = path
    self.wake = try Self.makeWakePipe()
    start(fd: nil, options: options)
  }

  /// Reads an open descriptor (taken over: closed at EOF).
  init(fd: Int32, label: String, options: Options = Options()) throws {
    self.label = label
    self.path = nil
    self.wake = try Self.makeWakePipe()
    start(fd: fd, options: options)
  }

  deinit {
    close(wake.read)
    close(wake.write)
  }

  private static func makeWakePipe() throws -> (read: Int32, write: Int32) {
    let fds = try Posix.pipe()
    Posix.setNonBlocking(fds.read)
    Posix.setNonBlocking(fds.write)
    return fds
  }

  private func start(fd: Int32?, options: Options) {
    Blocking.detach(name: "drain \(label)") { [self] in
      self.run(fd: fd, options: options)
      self.finished.set()
    }
  }

  /// Monotonic time of the first byte (nil before it arrives).
  var firstByteNanos: UInt64? {
    let value = firstByte.load(ordering: .acquiring)
    return value == 0 ? nil : value
  }
  /// Monotonic time of the last byte read so far.
  var lastByteNanos: UInt64? {
    let value = lastByte.load(ordering: .acquiring)
    return value == 0 ? nil : value
  }
  var bytes: Int { byteCount.load(ordering: .acquiring) }
  /// How often the reader found the stream empty after its first byte and waited in poll, and
  /// for how long in total (the reader was starved, not the bottleneck).
  var emptyWaits: Int { pollCount.load(ordering: .acquiring) }
  var emptyWaitNanos: UInt64 { pollNanos.load(ordering: .acquiring) }
  /// Per-line latencies in nanoseconds (complete once `finished`).
  var latencies: [Int64] { results.withLock { $0.latencies } }
  /// The first bytes read, as text.
  var headText: String { results.withLock { String(decoding: $0.head, as: UTF8.self) } }
  var error: String? { results.withLock { $0.error } }

  private func run(fd given: Int32?, options: Options) {
    var fd: Int32
    if let given {
      fd = given
    } else {
      guard let path else { return }
      while true {
        if interrupted.load(ordering: .acquiring) { return }
        fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 { break }
        if errno == EINTR { continue }
        let text = String(cString: strerror(errno))
        results.withLock { $0.error = "open \(path): \(text)" }
        return
      }
    }
    opened.set()
    defer { close(fd) }
    if interrupted.load(ordering: .acquiring) { return }
    Posix.setNonBlocking(fd)
    let capacity = options.readSize
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
    defer { buffer.deallocate() }
    var latencies: [Int64] = []
    var partial: [UInt8] = []
    var head: [UInt8] = []
    var total = 0
    var pendingWait: UInt64 = 0
    defer {
      results.withLock {
        $0.latencies = latencies
        $0.head = head
      }
    }
    while true {
      let n = read(fd, buffer.baseAddress, capacity)
      if n > 0 {
        let now = Clock.mono()
        if pendingWait > 0 {
          // A wait between two reads of data (not the one before the first byte or before EOF).
          pollCount.add(1, ordering: .releasing)
          pollNanos.add(pendingWait, ordering: .releasing)
          pendingWait = 0
        }
        if total == 0 { firstByte.store(now, ordering: .releasing) }
        lastByte.store(now, ordering: .releasing)
        total += n
        byteCount.store(total, ordering: .releasing)
        let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
        if head.count < options.keepHead {
          head.append(contentsOf: chunk.prefix(options.keepHead - head.count))
        }
        if options.timestamps {
          let arrival = Clock.wall()
          Self.parseStamps(chunk, arrival: arrival, partial: &partial, into: &latencies)
        }
        continue
      }
      if n == 0 {
        options.onEOF?()
        return
      }
      let code = errno
      if code == EINTR { continue }
      guard code == EAGAIN else {
        let text = String(cString: strerror(code))
        results.withLock { $0.error = "read: \(text)" }
        return
      }
      var fds = [
        pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0),
      ]
      let before = Clock.mono()
      _ = poll(&fds, 2, -1)
      if total > 0 { pendingWait = Clock.mono() - before }
      if fds[1].revents != 0 || interrupted.load(ordering: .acquiring) { return }
    }
  }

  /// Splits `chunk` into lines (carrying a partial line over) and records `arrival - stamp` for
  /// every `ts <nanos>` line.
  static func parseStamps(
    _ chunk: UnsafeRawBufferPointer, arrival: Int64, partial: inout [UInt8], into latencies: inout [Int64]
  ) {
    for byte in chunk {
      if byte != 0x0A {
        if partial.count < 256 { partial.append(byte) }
        continue
      }
      if partial.count > 3, partial[0] == UInt8(ascii: "t"), partial[1] == UInt8(ascii: "s"),
        partial[2] == UInt8(ascii: " ")
      {
        var value: Int64 = 0
        var valid = true
        for digit in partial[3...] {
          guard digit >= 0x30 && digit <= 0x39 else {
            valid = false
            break
          }
          value = value * 10 + Int64(digit - 0x30)
        }
        if valid { latencies.append(arrival - value) }
      }
      partial.removeAll(keepingCapacity: true)
    }
  }

  /// Stops the reader as soon as possible (unread data is lost).
  func interrupt() {
    guard interrupted.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
    else { return }
    var byte: UInt8 = 1
    _ = write(wake.write, &byte, 1)
    guard !opened.isSet, let path else { return }
    // Blocked in open(): connect a writer for a moment to release it.
    let finished = self.finished
    Blocking.detach(name: "drain-unblock") {
      for _ in 0..<300 where !finished.isSet {
        let fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        if fd >= 0 { close(fd) }
        usleep(10_000)
      }
    }
  }

  /// Waits for EOF; interrupts the reader if it does not come within `timeout`.
  @discardableResult
  func waitForEOF(timeout: Duration) async -> Bool {
    if await finished.wait(timeout: timeout) { return true }
    interrupt()
    _ = await finished.wait(timeout: .seconds(5))
    return false
  }
}
