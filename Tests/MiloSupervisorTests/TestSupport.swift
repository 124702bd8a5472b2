import Foundation
@_exported import TestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Ignores SIGPIPE once for the test process: relays write to FIFOs whose reader may be gone.
let ignoreSigpipe: Void = {
  signal(SIGPIPE, SIG_IGN)
}()

/// A pipe whose write end tests feed like an application would (close-on-exec both ends).
struct TestPipe {
  let readFD: Int32
  var writeFD: Int32

  init() {
    var fds: [Int32] = [0, 0]
    precondition(pipe(&fds) == 0)
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    readFD = fds[0]
    writeFD = fds[1]
  }

  func write(_ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
      let n = bytes.withUnsafeBytes { raw in
        Glibc.write(writeFD, raw.baseAddress.map { $0 + offset }, bytes.count - offset)
      }
      precondition(n > 0, "pipe write failed: errno \(errno)")
      offset += n
    }
  }

  func write(_ text: String) { write(Array(text.utf8)) }

  mutating func closeWrite() {
    if writeFD >= 0 { close(writeFD) }
    writeFD = -1
  }
}

/// The read side of a FIFO, opened non-blocking, the way a test plays Nomad's logmon.
final class FifoReader {
  let path: String
  private(set) var fd: Int32

  init(_ path: String) {
    self.path = path
    fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    precondition(fd >= 0, "open \(path) for reading: errno \(errno)")
  }

  /// Reads everything available now.
  func readAvailable() -> [UInt8] {
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n > 0 {
        out.append(contentsOf: chunk[0..<n])
        continue
      }
      if n < 0 && errno == EINTR { continue }
      return out
    }
  }

  func readText() -> String { String(decoding: readAvailable(), as: UTF8.self) }

  /// Sets the kernel pipe's size (F_SETPIPE_SZ), so tests can fill it with a few KiB.
  func setPipeSize(_ bytes: Int32) {
    let result = fcntl(fd, 1031 /* F_SETPIPE_SZ */, bytes)
    precondition(result >= 0, "F_SETPIPE_SZ: errno \(errno)")
  }

  func close() {
    if fd >= 0 { Glibc.close(fd) }
    fd = -1
  }

  deinit { close() }
}

/// Fixed points on a fake monotonic clock, far from zero.
enum Clock {
  static let t0: UInt64 = 1_000_000_000_000
  static let ms: UInt64 = 1_000_000
}
