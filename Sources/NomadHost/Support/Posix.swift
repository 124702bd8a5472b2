import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Thin wrappers over the POSIX calls NomadHost uses.
enum Posix {
  /// `strerror(code)` spelled as Go spells errno texts (lower-case first letter).
  static func errorText(_ code: Int32) -> String {
    guard let raw = strerror(code) else { return "errno \(code)" }
    let text = String(cString: raw)
    guard let first = text.first else { return text }
    return first.lowercased() + text.dropFirst()
  }

  /// A system call failure, described like Go's `*PathError` ("open <path>: <text>").
  struct Failure: Error, CustomStringConvertible {
    var operation: String
    var path: String?
    var code: Int32

    var description: String {
      if let path { return "\(operation) \(path): \(Posix.errorText(code))" }
      return "\(operation): \(Posix.errorText(code))"
    }
  }

  /// Writes all of `bytes` to `fd`, retrying on EINTR and short writes.
  @discardableResult
  static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32? {
    var offset = 0
    while offset < bytes.count {
      guard let base = bytes.baseAddress else { return nil }
      let n = write(fd, base + offset, bytes.count - offset)
      if n < 0 {
        if errno == EINTR { continue }
        return errno
      }
      offset += n
    }
    return nil
  }

  /// Writes all of `bytes` to `fd`; returns the errno of a failure or nil.
  @discardableResult
  static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32? {
    bytes.withUnsafeBytes { writeAll(fd, $0) }
  }

  /// Reads up to `capacity` bytes; nil at EOF, throws on errors other than EINTR.
  static func read(_ fd: Int32, capacity: Int) throws(Failure) -> [UInt8]? {
    var buffer = [UInt8](repeating: 0, count: capacity)
    while true {
      let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, capacity) }
      if n < 0 {
        if errno == EINTR { continue }
        throw Failure(operation: "read", path: nil, code: errno)
      }
      if n == 0 { return nil }
      buffer.removeSubrange(n...)
      return buffer
    }
  }

  /// Creates a pipe whose ends are close-on-exec: (read, write).
  static func pipe() throws(Failure) -> (Int32, Int32) {
    var fds: [Int32] = [-1, -1]
    // pipe2 is not exported by the Glibc module; children spawned with milo_spawn close every
    // descriptor above 2 anyway, so the short window before FD_CLOEXEC is harmless.
    let rc = fds.withUnsafeMutableBufferPointer { Glibc.pipe($0.baseAddress) }
    guard rc == 0 else { throw Failure(operation: "pipe", path: nil, code: errno) }
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    return (fds[0], fds[1])
  }

  /// Sets or clears O_NONBLOCK.
  static func setNonBlocking(_ fd: Int32, _ on: Bool = true) {
    let flags = fcntl(fd, F_GETFL)
    guard flags >= 0 else { return }
    _ = fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK)
  }

  /// The current process environment as an ordered list of `KEY=VALUE` strings (as Go's
  /// `os.Environ()`).
  static func environmentList() -> [String] {
    var result: [String] = []
    var pointer = environ
    while let entry = pointer.pointee {
      result.append(String(cString: entry))
      pointer += 1
    }
    return result
  }

  /// Whether the process runs with euid 0.
  static var isRoot: Bool { geteuid() == 0 }

  /// Runs `body` on a new detached thread (used for blocking I/O loops).
  static func detachThread(name: String, _ body: @escaping @Sendable () -> Void) {
    let thread = Thread { body() }
    thread.name = name
    thread.stackSize = 1 << 20
    thread.start()
  }

  /// Sleeps the calling thread.
  static func sleep(milliseconds: Int) {
    var spec = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
    var remaining = timespec()
    while nanosleep(&spec, &remaining) != 0 && errno == EINTR { spec = remaining }
  }

  /// Monotonic clock in nanoseconds.
  static func monotonicNanos() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
  }

  /// Go's `os.FileMode.String()` for a `st_mode` value, e.g. "-rwxr-xr-x".
  static func goModeString(_ mode: mode_t) -> String {
    var out = ""
    switch mode & S_IFMT {
    case S_IFDIR: out = "d"
    case S_IFLNK: out = "L"
    case S_IFIFO: out = "p"
    case S_IFSOCK: out = "S"
    case S_IFCHR: out = "Dc"
    case S_IFBLK: out = "D"
    default: out = ""
    }
    if mode & S_ISUID != 0 { out += "u" }
    if mode & S_ISGID != 0 { out += "g" }
    if mode & S_ISVTX != 0 { out += "t" }
    if out.isEmpty { out = "-" }
    let letters: [Character] = ["r", "w", "x"]
    for i in 0..<9 {
      let bit = mode_t(1) << mode_t(8 - i)
      out.append(mode & bit != 0 ? letters[i % 3] : "-")
    }
    return out
  }
}

/// Reads a whole file with a read loop. Foundation's `String(contentsOfFile:)` stops early on
/// /proc files (their size is 0 and reads are short), so /proc must be read this way.
func readProcFile(_ path: String) -> String? {
  let fd = open(path, O_RDONLY | O_CLOEXEC)
  guard fd >= 0 else { return nil }
  defer { close(fd) }
  var bytes: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 16 << 10)
  while bytes.count < 64 << 20 {
    let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    if n < 0 && errno == EINTR { continue }
    if n <= 0 { break }
    bytes.append(contentsOf: chunk[0..<n])
  }
  return String(decoding: bytes, as: UTF8.self)
}
