import MiloSys

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The write side of one log FIFO (Nomad's logmon reads the other side).
///
/// Writes never block. When the reader goes away (EPIPE, or no reader yet) the sink keeps its
/// descriptor, so bytes still in the pipe reach a reader that reopens the same FIFO, and retries
/// opening the path until a reader is back (a restarted logmon may create a new FIFO).
public struct FifoSink: Sendable {
  /// The FIFO path, or `/dev/null` when logs are disabled.
  public let path: String
  /// The open descriptor, or -1.
  public private(set) var fd: Int32 = -1
  /// True while no reader is known to be attached.
  public private(set) var readerGone = true
  /// True once an attached reader went away, until `takeBackUnread` is called.
  public private(set) var readerVanished = false
  /// The device and inode of the FIFO `fd` refers to.
  private var device: dev_t = 0
  private var inode: ino_t = 0
  private var nextAttempt: UInt64 = 0
  /// How long to wait between reconnection attempts.
  public var retryNanos: UInt64 = 50_000_000
  /// The kernel buffer to grow a newly opened FIFO to (0: leave it as the reader made it).
  public var pipeBytes: Int32 = 0

  public init(path: String) {
    self.path = path
  }

  /// True when the sink can take bytes now (possibly short writes).
  public var isConnected: Bool { fd >= 0 && !readerGone }

  /// When the next reconnection attempt is due, if one is needed.
  public var reconnectDeadline: UInt64? { isConnected ? nil : nextAttempt }

  /// Tries to (re)open the FIFO if no reader is attached and the retry time has come.
  public mutating func reconnectIfDue(now: UInt64) {
    guard !isConnected, now >= nextAttempt else { return }
    nextAttempt = now + retryNanos
    let newFD = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
    guard newFD >= 0 else { return }  // ENXIO: no reader yet.
    var info = stat()
    let known = fstat(newFD, &info) == 0
    if fd >= 0 && known && info.st_ino == inode && info.st_dev == device {
      // Same FIFO: keep the old descriptor (and whatever it still holds in the pipe).
      systemClose(newFD)
    } else {
      if fd >= 0 { systemClose(fd) }
      fd = newFD
      if pipeBytes > 0 && known && (info.st_mode & S_IFMT) == S_IFIFO { Posix.growPipe(fd, to: pipeBytes) }
      device = known ? info.st_dev : 0
      inode = known ? info.st_ino : 0
    }
    readerGone = false
  }

  /// Writes as much of `bytes` as the FIFO takes now; returns the count written.
  public mutating func write(_ bytes: UnsafeRawBufferPointer) -> Int {
    guard isConnected, let base = bytes.baseAddress, bytes.count > 0 else { return 0 }
    while true {
      let n = systemWrite(fd, base, bytes.count)
      if n >= 0 { return n }
      switch errno {
      case EINTR: continue
      case EAGAIN: return 0
      default:
        // EPIPE (reader gone) or another error: wait for a reader to come back.
        readerGone = true
        readerVanished = true
        nextAttempt = 0
        return 0
      }
    }
  }

  /// Marks the reader as gone after poll reported POLLERR/POLLHUP on the descriptor.
  public mutating func markReaderGone() {
    if !readerGone { readerVanished = true }
    readerGone = true
  }

  /// After the reader vanished: reads back what it left unread in the FIFO, so the relay can
  /// send it again in order (a new reader of the same FIFO would otherwise get these bytes ahead
  /// of what the relay resends). Clears `readerVanished`.
  ///
  /// Nil when a new reader already has the FIFO open (it came back before the relay noticed):
  /// it is reading those bytes in order, and taking them back would split them between the two.
  public mutating func takeBackUnread() -> [UInt8]? {
    readerVanished = false
    guard fd >= 0, readerGone else { return [] }
    if readerAttached() { return nil }
    let reader = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    guard reader >= 0 else { return [] }
    defer { systemClose(reader) }
    var info = stat()
    guard fstat(reader, &info) == 0, info.st_ino == inode, info.st_dev == device else { return [] }
    var taken: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 << 10)
    while true {
      let n = chunk.withUnsafeMutableBytes { read(reader, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      taken += chunk[0..<n]
    }
    return taken
  }

  /// Whether some process has this sink's FIFO open for reading: opening it to write without
  /// blocking fails with ENXIO when none has.
  private func readerAttached() -> Bool {
    let probe = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
    guard probe >= 0 else { return false }
    defer { systemClose(probe) }
    var info = stat()
    return fstat(probe, &info) == 0 && info.st_ino == inode && info.st_dev == device
  }

  /// Closes the descriptor; the reader sees EOF once every writer has closed.
  public mutating func close() {
    if fd >= 0 { systemClose(fd) }
    fd = -1
    readerGone = true
  }
}

// The C calls under names that the methods `close()`/`write(_:)` do not shadow, on Glibc and Musl.
private func systemClose(_ fd: Int32) { _ = close(fd) }
private func systemWrite(_ fd: Int32, _ base: UnsafeRawPointer, _ count: Int) -> Int { write(fd, base, count) }
