import MiloSys
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// logmon's `logRotatorWrapper`: a dedicated thread opens the FIFO for reading (a blocking open,
/// which waits for the first writer), then copies it into a `FileRotator` in 32 KiB reads (Go's
/// `io.Copy` buffer) until EOF, i.e. until every writer has closed. It never reopens.
///
/// The thread can be interrupted at any point: while blocked in `open` (by briefly opening the
/// FIFO for writing) or while waiting for data (by a wake-up pipe polled next to the FIFO).
final class FifoReader: Sendable {
  /// The FIFO path.
  let path: String
  let rotator: FileRotator
  /// Set once the copy loop has ended (EOF, error or interruption).
  let finished = Latch<Void>()
  /// Set once the FIFO has been opened.
  let opened = Latch<Void>()
  private let interrupted = Atomic<Bool>(false)
  private let wakeWriterOpen = Mutex<Bool>(true)
  private let wake: (Int32, Int32)
  private let copiedBytes = Atomic<Int>(0)
  private let discardedBytes = Atomic<Int>(0)
  private let leftInPipe = Atomic<Int>(0)
  private let lastError = Mutex<String?>(nil)

  /// Creates the FIFO (mode 0600) when absent and starts the reader thread.
  init(path: String, rotator: FileRotator) throws {
    self.path = path
    self.rotator = rotator
    var info = stat()
    if lstat(path, &info) != 0 && errno == ENOENT {
      guard mkfifo(path, 0o600) == 0 else {
        let failure = Syscall.Failure(operation: "mkfifo", path: path, code: errno)
        throw LogMonError("failed to create fifo for extracting logs: error creating fifo \(path): \(failure)")
      }
    }
    wake = try Posix.pipe(flags: O_NONBLOCK)
    Blocking.detach(name: "logmon \(path)") { [self] in
      self.run()
      self.closeWakeWriter(signal: false)
      Glibc.close(self.wake.0)
      self.finished.fulfil(())
    }
  }

  /// Bytes copied so far.
  var bytesCopied: Int { copiedBytes.load(ordering: .relaxed) }

  /// Bytes read from the FIFO that never reached the rotator (its write failed, e.g. because
  /// the rotator was abandoned by a kill while the read was in progress).
  var bytesDiscarded: Int { discardedBytes.load(ordering: .relaxed) }

  /// When interrupted: the bytes that were still unread in the pipe as the read end closed
  /// (they stay there for the next reader while a writer holds the FIFO open).
  var bytesLeftInPipe: Int { leftInPipe.load(ordering: .relaxed) }

  /// Whether the copy loop is still running.
  var isRunning: Bool { !finished.isFulfilled }

  /// The error that ended the copy, if any ("failed to read from log fifo").
  var error: String? { lastError.withLock { $0 } }

  private func run() {
    var fd: Int32 = -1
    while true {
      if interrupted.load(ordering: .acquiring) { return }
      fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
      if fd >= 0 { break }
      if errno == EINTR { continue }
      lastError.withLock { $0 = "failed to open fifo: error opening reader at \(path): \(Syscall.errorText(errno))" }
      return
    }
    opened.fulfil(())
    defer {
      if interrupted.load(ordering: .acquiring) {
        var available: Int32 = 0
        if ioctl(fd, UInt(FIONREAD), &available) == 0 { leftInPipe.store(Int(available), ordering: .relaxed) }
      }
      Glibc.close(fd)
    }
    if interrupted.load(ordering: .acquiring) { return }
    Posix.setNonBlocking(fd)
    let capacity = 32 * 1024
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
    defer { buffer.deallocate() }
    while true {
      // Once interrupted, read nothing more: what is still in the pipe stays there for the next
      // reader (a killed process reads nothing either).
      if interrupted.load(ordering: .acquiring) { return }
      let n = read(fd, buffer.baseAddress, capacity)
      if n > 0 {
        do {
          try rotator.write(UnsafeRawBufferPointer(rebasing: buffer[..<n]))
        } catch {
          discardedBytes.add(n, ordering: .relaxed)
          lastError.withLock { $0 = "failed to read from log fifo: \(error)" }
          return
        }
        copiedBytes.add(n, ordering: .relaxed)
        continue
      }
      if n == 0 { return }  // EOF: every writer closed.
      let code = errno
      if code == EINTR { continue }
      guard code == EAGAIN || code == EWOULDBLOCK else {
        lastError.withLock { $0 = "failed to read from log fifo: \(Syscall.errorText(code))" }
        return
      }
      var fds = [
        pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wake.0, events: Int16(POLLIN), revents: 0),
      ]
      _ = fds.withUnsafeMutableBufferPointer { poll($0.baseAddress, 2, -1) }
      if fds[1].revents != 0 || interrupted.load(ordering: .acquiring) { return }
    }
  }

  /// Closes the wake-up pipe's write end exactly once, first writing a byte when `signal`.
  private func closeWakeWriter(signal: Bool) {
    wakeWriterOpen.withLock { open in
      guard open else { return }
      if signal {
        var byte: UInt8 = 1
        _ = write(wake.1, &byte, 1)
      }
      Glibc.close(wake.1)
      open = false
    }
  }

  /// Stops the reader thread as soon as possible: it reads nothing more and closes the read end.
  /// Unread pipe data stays in the pipe while a writer holds it open (a reader that reopens the
  /// FIFO gets it), and is lost once every writer has closed too. Safe to call more than once.
  func interrupt() {
    guard interrupted.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
    else { return }
    closeWakeWriter(signal: true)
    guard !opened.isFulfilled else { return }
    // The thread may be blocked in open(): connect a writer for a moment to release it.
    let path = self.path
    let finished = self.finished
    Blocking.detach(name: "logmon-unblock") {
      for _ in 0..<500 where !finished.isFulfilled {
        let fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        if fd >= 0 { Glibc.close(fd) }
        Syscall.sleep(milliseconds: 10)
      }
    }
  }
}

/// A logmon failure.
public struct LogMonError: Error, CustomStringConvertible, Sendable {
  public var description: String
  public init(_ description: String) { self.description = description }
}
