import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Reads a plugin's stderr like go-plugin (`bufio.Reader.ReadLine` with a 64 KiB buffer) and
/// keeps the classified lines.
final class StderrLog: Sendable {
  private let limit: Int
  private let onLine: (@Sendable (PluginLogLine) -> Void)?
  private let stored = Mutex<[PluginLogLine]>([])

  init(limit: Int, onLine: (@Sendable (PluginLogLine) -> Void)?) {
    self.limit = limit
    self.onLine = onLine
  }

  var lines: [PluginLogLine] { stored.withLock { $0 } }

  func read(_ fd: Int32) {
    let bufferSize = 64 * 1024
    var classifier = PluginLogClassifier()
    var current: [UInt8] = []
    var continuation = false
    func emit(_ bytes: [UInt8], fragment: Bool) {
      var bytes = bytes
      if !fragment, bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
      let line = classifier.classify(bytes, fragment: fragment)
      stored.withLock { lines in
        lines.append(line)
        if lines.count > limit { lines.removeFirst(lines.count - limit) }
      }
      onLine?(line)
    }
    while true {
      guard let chunk = try? Syscall.read(fd, capacity: bufferSize) else { break }
      var start = chunk.startIndex
      while start < chunk.endIndex {
        if let newline = chunk[start...].firstIndex(of: UInt8(ascii: "\n")) {
          current.append(contentsOf: chunk[start..<newline])
          start = newline + 1
          emit(current, fragment: continuation || current.count > bufferSize)
          continuation = false
          current = []
        } else {
          current.append(contentsOf: chunk[start...])
          start = chunk.endIndex
        }
        while current.count >= bufferSize {
          emit(Array(current[..<bufferSize]), fragment: true)
          current.removeFirst(bufferSize)
          continuation = true
        }
      }
    }
    if !current.isEmpty { emit(current, fragment: continuation) }
  }
}
