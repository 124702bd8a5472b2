import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// A fresh directory under the system temp dir, removed when the value goes away.
final class TempDir: @unchecked Sendable {
  let path: String

  init(_ label: String = "milo-test") {
    var template = Array((NSTemporaryDirectory() + "/\(label).XXXXXX").utf8CString)
    let made = template.withUnsafeMutableBufferPointer { buffer in
      buffer.baseAddress.flatMap { mkdtemp($0) }.map { String(cString: $0) }
    }
    guard let made else { preconditionFailure("mkdtemp failed: errno \(errno)") }
    // Resolved, so paths compare equal to what code that resolves links computes.
    path = URL(fileURLWithPath: made).resolvingSymlinksInPath().path
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }

  /// Creates `relative` (and its parents) as a directory and returns its absolute path.
  @discardableResult
  func makeDirectory(_ relative: String) -> String {
    let full = path + "/" + relative
    createDirectories(full)
    return full
  }

  /// Writes `bytes` to `relative` (creating parent directories) and returns its absolute path.
  @discardableResult
  func write(_ relative: String, _ bytes: [UInt8], mode: Int = 0o644) -> String {
    let full = path + "/" + relative
    let parent = (full as NSString).deletingLastPathComponent
    createDirectories(parent)
    precondition(FileManager.default.createFile(atPath: full, contents: Data(bytes)))
    chmod(full, mode_t(mode))
    return full
  }

  @discardableResult
  func write(_ relative: String, _ text: String, mode: Int = 0o644) -> String {
    write(relative, Array(text.utf8), mode: mode)
  }

  /// Creates a FIFO at `relative` and returns its absolute path.
  func makeFifo(_ relative: String) -> String {
    let full = path + "/" + relative
    precondition(mkfifo(full, 0o600) == 0, "mkfifo \(full): errno \(errno)")
    return full
  }
}

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

/// The typed error `body` throws; records an issue when it succeeds or throws another type.
func caught<E: Error, T>(
  _ type: E.Type, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> T
) -> E? {
  do {
    let value = try body()
    Issue.record("expected \(E.self), got \(value)", sourceLocation: sourceLocation)
    return nil
  } catch let error as E {
    return error
  } catch {
    Issue.record("expected \(E.self), got \(error)", sourceLocation: sourceLocation)
    return nil
  }
}

/// Creates `path` and its parents; a test cannot go on without them.
func createDirectories(_ path: String) {
  do {
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  } catch {
    preconditionFailure("create \(path): \(error)")
  }
}
