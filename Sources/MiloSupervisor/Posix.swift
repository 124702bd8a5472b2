#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// An operating system error: the call that failed and its errno.
public struct SystemError: Error, CustomStringConvertible, Sendable {
  public var call: String
  public var errno: Int32

  public init(_ call: String, errno: Int32 = Glibc.errno) {
    self.call = call
    self.errno = errno
  }

  public var description: String { "\(call): \(String(cString: strerror(errno)))" }
}

/// Small, Foundation-free file helpers used by the supervisor and the driver.
public enum Posix {
  /// Reads a whole (small) file; nil when it cannot be opened.
  public static func readFile(_ path: String, limit: Int = 1 << 20) -> [UInt8]? {
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

  /// Writes `bytes` fully to `fd`, retrying on EINTR; returns false on any other error.
  @discardableResult
  public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    var offset = 0
    while offset < bytes.count {
      let n = bytes.withUnsafeBytes { raw -> Int in
        guard let base = raw.baseAddress else { return 0 }
        return write(fd, base + offset, raw.count - offset)
      }
      if n < 0 {
        if errno == EINTR { continue }
        return false
      }
      offset += n
    }
    return true
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

  /// Sets O_NONBLOCK on `fd`.
  public static func setNonBlocking(_ fd: Int32) {
    let flags = fcntl(fd, F_GETFL)
    if flags >= 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
  }
}
