import CMiloSys

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Small, Foundation-free helpers over files and descriptors, used by every module.
public enum Posix {
  /// Reads a whole file (at most `limit` bytes) with a read loop, which also reads /proc files
  /// whose size is 0 and whose reads are short; nil when it cannot be opened.
  public static func readFile(_ path: String, limit: Int = 64 << 20) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while out.count < limit {
      let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      out.append(contentsOf: chunk[0..<n])
    }
    return out
  }

  /// Reads a file as UTF-8 text (lossy); nil when it cannot be opened.
  public static func readText(_ path: String) -> String? {
    readFile(path).map { String(decoding: $0, as: UTF8.self) }
  }

  /// Writes `bytes` fully to `fd`, retrying on EINTR and short writes; returns false on any
  /// other error, with `errno` still telling which.
  @discardableResult
  public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
    guard let base = bytes.baseAddress else { return true }
    var offset = 0
    while offset < bytes.count {
      let n = write(fd, base + offset, bytes.count - offset)
      if n < 0 {
        if errno == EINTR { continue }
        return false
      }
      if n == 0 {
        errno = EIO
        return false
      }
      offset += n
    }
    return true
  }

  /// Writes `bytes` fully to `fd`, as the raw-buffer variant.
  @discardableResult
  public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { writeAll(fd, $0) }
  }

  /// Replaces `path` atomically with `text` (write to a temporary file, fsync, rename).
  public static func writeFileAtomically(_ path: String, _ text: String) throws(SystemError) {
    let temporary = path + ".tmp"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw SystemError("open \(temporary)") }
    let ok = writeAll(fd, Array(text.utf8))
    fsync(fd)
    close(fd)
    guard ok else { throw SystemError("write \(temporary)") }
    guard rename(temporary, path) == 0 else { throw SystemError("rename \(path)") }
  }

  /// Monotonic time in nanoseconds.
  public static func monotonicNanos() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
  }

  /// Wall-clock time in nanoseconds since the Unix epoch.
  public static func wallNanos() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
  }

  /// Creates a pipe whose ends are close-on-exec (and have `flags`, e.g. O_NONBLOCK, too):
  /// (read, write).
  public static func pipe(flags: Int32 = 0) throws(SystemError) -> (read: Int32, write: Int32) {
    var fds: [Int32] = [-1, -1]
    let rc = milo_pipe2(&fds, O_CLOEXEC | flags)
    guard rc == 0 else { throw SystemError("pipe2", errno: -rc) }
    return (fds[0], fds[1])
  }

  /// Grows the kernel buffer of the pipe or FIFO behind `fd` to at least `bytes`; never shrinks
  /// it. Returns the resulting size, or nil (e.g. EPERM above /proc/sys/fs/pipe-max-size for an
  /// unprivileged caller, or `fd` is not a pipe).
  @discardableResult
  public static func growPipe(_ fd: Int32, to bytes: Int32) -> Int32? {
    let size = milo_grow_pipe(fd, bytes)
    return size < 0 ? nil : size
  }

  /// statfs(2)'s file system type (`f_type`) of `path`; nil when it cannot be read.
  public static func fileSystemType(_ path: String) -> Int? {
    let type = milo_fs_type(path)
    return type < 0 ? nil : Int(type)
  }

  /// Where `needle` first occurs in `haystack` (memmem(3)), as an offset; nil when it does not.
  public static func firstOffset(of needle: UnsafeRawBufferPointer, in haystack: UnsafeRawBufferPointer) -> Int? {
    guard let hay = haystack.baseAddress, let pin = needle.baseAddress,
      let hit = milo_memmem(hay, haystack.count, pin, needle.count)
    else { return nil }
    return hay.distance(to: hit)
  }

  /// Sets O_NONBLOCK on `fd`.
  public static func setNonBlocking(_ fd: Int32) {
    let flags = fcntl(fd, F_GETFL)
    if flags >= 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
  }
}
