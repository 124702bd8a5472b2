import Foundation
import MiloSys
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Nomad's log rotator (`client/logmon/logging/rotator.go`), reproduced byte for byte:
///
/// - files are `<directory>/<baseName>.<N>`, opened `O_RDWR|O_CREATE|O_APPEND` 0644;
/// - on start the highest existing index is continued (appending);
/// - writes go through a 64 KiB buffer (Go's `bufio.Writer` semantics, including writing a large
///   chunk straight through when the buffer is empty) flushed every 100 ms;
/// - near the end of a file (within 32 KiB) a write is cut at a newline if the line fits, else
///   the file is rotated, and lines longer than the file size are split;
/// - `currentWr` is increased by the cumulative count of the current `write` call (Nomad's
///   over-counting quirk), so rotation can happen before a file is full;
/// - after rotating, when `index - oldestIndex >= maxFiles`, files beyond the newest `maxFiles`
///   are deleted (done synchronously here; Nomad purges in a goroutine).
public final class FileRotator: Sendable {
  /// `logBufferSize`.
  public static let bufferSize = 64 * 1024
  /// `lineScanLimit`.
  public static let lineScanLimit: Int64 = 32 * 1024
  /// `bufferFlushDuration`.
  public static let flushInterval: Duration = .milliseconds(100)

  /// The directory holding the files.
  public let directory: String
  /// The file name prefix, e.g. `web.stdout`.
  public let baseName: String
  /// `MaxFiles`.
  public let maxFiles: Int
  /// `FileSize` in bytes.
  public let fileSize: Int64

  private struct State {
    var fd: Int32 = -1
    var currentWr: Int64 = 0
    var logFileIdx = 0
    var oldestLogFileIdx = 0
    var buffer: [UInt8] = []
    var bufferError: Int32?
    var closed = false
  }

  private let state: Mutex<State>

  /// Opens the rotator, continuing the highest-numbered existing file. `flushInterval` nil
  /// disables the periodic flush (for tests).
  public init(
    directory: String, baseName: String, maxFiles: Int, fileSize: Int64,
    flushInterval: Duration? = FileRotator.flushInterval
  ) throws {
    self.directory = directory
    self.baseName = baseName
    self.maxFiles = maxFiles
    self.fileSize = fileSize
    var initial = State()
    initial.buffer.reserveCapacity(Self.bufferSize)
    state = Mutex(initial)
    try state.withLock { state throws in
      state.logFileIdx = try lastFileIndex()
      try createFile(&state)
    }
    if let flushInterval {
      let millis = Int(
        flushInterval.components.seconds * 1000 + flushInterval.components.attoseconds / 1_000_000_000_000_000)
      Blocking.detach(name: "rotator-flush") { [weak self] in
        while true {
          Syscall.sleep(milliseconds: max(1, millis))
          guard let self, self.flushIfOpen() else { return }
        }
      }
    }
  }

  /// The index of the file being written.
  public var currentIndex: Int { state.withLock { $0.logFileIdx } }

  /// Bytes buffered and not yet written to the file.
  public var bufferedCount: Int { state.withLock { $0.buffer.count } }

  /// `Write`: returns the number of bytes accepted; throws (after resetting the buffer, as Nomad
  /// does) when the file cannot be written or a new one cannot be created.
  @discardableResult
  public func write(_ bytes: UnsafeRawBufferPointer) throws -> Int {
    try state.withLock { state throws -> Int in
      guard !state.closed else { throw Syscall.Failure(operation: "write", path: nil, code: EBADF) }
      var n = 0
      var forceRotate = false
      while n < bytes.count {
        if forceRotate || state.currentWr >= fileSize {
          forceRotate = false
          flushBuffer(&state)
          Glibc.close(state.fd)
          state.fd = -1
          // Nomad returns (0, err) here.
          try nextFile(&state)
        }
        let remainingSpace = fileSize - state.currentWr
        let remainingToWrite = Int64(bytes.count - n)
        var nw = 0
        var failure: Syscall.Failure?
        let rest = UnsafeRawBufferPointer(rebasing: bytes[n...])
        if remainingSpace - Self.lineScanLimit < remainingToWrite {
          let newline = rest.firstIndex(of: UInt8(ascii: "\n"))
          if let idx = newline, remainingSpace - Int64(idx) - 1 >= 0 {
            (nw, failure) = writeToBuffer(&state, UnsafeRawBufferPointer(rebasing: rest[..<(idx + 1)]))
          } else if newline != nil {
            forceRotate = true
          } else if remainingToWrite > fileSize || fileSize - Self.lineScanLimit < 0 {
            let limit = remainingSpace > remainingToWrite ? remainingToWrite : remainingSpace
            (nw, failure) = writeToBuffer(&state, UnsafeRawBufferPointer(rebasing: rest[..<Int(max(0, limit))]))
          } else {
            forceRotate = true
          }
        } else {
          (nw, failure) = writeToBuffer(&state, rest)
        }
        n += nw
        // Nomad adds the cumulative count, not `nw` (over-counting quirk).
        state.currentWr += Int64(n)
        if let failure {
          state.buffer.removeAll(keepingCapacity: true)
          state.bufferError = nil
          throw failure
        }
      }
      return n
    }
  }

  /// Writes `bytes`; see `write(_:)`.
  @discardableResult
  public func write(_ bytes: [UInt8]) throws -> Int {
    try bytes.withUnsafeBytes { buffer in try write(buffer) }
  }

  /// Flushes the buffer to the current file.
  public func flush() {
    state.withLock { flushBuffer(&$0) }
  }

  /// `Close`: flushes and closes the file. Later writes fail.
  public func close() {
    state.withLock { state in
      guard !state.closed else { return }
      flushBuffer(&state)
      state.closed = true
      Glibc.close(state.fd)
      state.fd = -1
    }
  }

  /// Closes without flushing: buffered bytes are lost, as when logmon is SIGKILLed. Returns how
  /// many bytes were lost (0 when already closed).
  @discardableResult
  public func abandon() -> Int {
    state.withLock { state in
      guard !state.closed else { return 0 }
      let lost = state.buffer.count
      state.buffer.removeAll()
      state.closed = true
      Glibc.close(state.fd)
      state.fd = -1
      return lost
    }
  }

  private func flushIfOpen() -> Bool {
    state.withLock { state in
      guard !state.closed else { return false }
      flushBuffer(&state)
      return true
    }
  }

  // MARK: - bufio.Writer

  /// `bufio.Writer.Write` on the 64 KiB buffer; returns bytes accepted and any error.
  private func writeToBuffer(_ state: inout State, _ bytes: UnsafeRawBufferPointer) -> (Int, Syscall.Failure?) {
    var p = bytes
    var nn = 0
    while p.count > Self.bufferSize - state.buffer.count && state.bufferError == nil {
      var n: Int
      if state.buffer.isEmpty {
        // Large write, empty buffer: write directly to avoid a copy.
        if !Posix.writeAll(state.fd, p) {
          state.bufferError = errno
          n = 0
        } else {
          n = p.count
        }
      } else {
        n = Self.bufferSize - state.buffer.count
        state.buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[..<n]))
        flushBuffer(&state)
      }
      nn += n
      p = UnsafeRawBufferPointer(rebasing: p[n...])
    }
    if let code = state.bufferError {
      return (nn, Syscall.Failure(operation: "write", path: currentPath(state), code: code))
    }
    state.buffer.append(contentsOf: p)
    return (nn + p.count, nil)
  }

  private func flushBuffer(_ state: inout State) {
    guard state.bufferError == nil, !state.buffer.isEmpty, state.fd >= 0 else { return }
    if !Posix.writeAll(state.fd, state.buffer) {
      state.bufferError = errno
      return
    }
    state.buffer.removeAll(keepingCapacity: true)
  }

  // MARK: - Files

  private func path(_ index: Int) -> String { "\(directory)/\(baseName).\(index)" }

  private func currentPath(_ state: State) -> String { path(state.logFileIdx) }

  /// `lastFile`: the highest index among `<base>.<N>` regular entries (0 if none).
  private func lastFileIndex() throws -> Int {
    let entries = try FileManager.default.contentsOfDirectory(atPath: directory)
    let prefix = baseName + "."
    var highest = 0
    for name in entries where name.hasPrefix(prefix) {
      var info = stat()
      if lstat("\(directory)/\(name)", &info) == 0, info.st_mode & S_IFMT == S_IFDIR { continue }
      if let index = PluginHandshake.goAtoi(String(name.dropFirst(prefix.count))), index > highest {
        highest = index
      }
    }
    return highest
  }

  /// `createFile`: opens the current index for appending and records its size.
  private func createFile(_ state: inout State) throws(Syscall.Failure) {
    let file = path(state.logFileIdx)
    let fd = open(file, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw Syscall.Failure(operation: "open", path: file, code: errno) }
    var info = stat()
    guard fstat(fd, &info) == 0 else {
      let code = errno
      Glibc.close(fd)
      throw Syscall.Failure(operation: "stat", path: file, code: code)
    }
    state.fd = fd
    state.currentWr = Int64(info.st_size)
    state.buffer.removeAll(keepingCapacity: true)
    state.bufferError = nil
  }

  /// `nextFile`: the next index whose file is absent or not full (and not a directory), then
  /// purge when needed.
  private func nextFile(_ state: inout State) throws(Syscall.Failure) {
    var next = state.logFileIdx
    while true {
      next += 1
      var info = stat()
      if stat(path(next), &info) == 0 {
        if info.st_mode & S_IFMT == S_IFDIR || Int64(info.st_size) >= fileSize { continue }
      }
      state.logFileIdx = next
      try createFile(&state)
      break
    }
    if state.logFileIdx - state.oldestLogFileIdx >= maxFiles {
      purgeOldFiles(&state)
    }
  }

  /// `purgeOldFiles`: keep the highest `maxFiles` indexes, delete the rest.
  private func purgeOldFiles(_ state: inout State) {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
    let prefix = baseName + "."
    var indexes: [Int] = []
    for name in entries where name.hasPrefix(baseName) {
      guard name.hasPrefix(prefix), let index = PluginHandshake.goAtoi(String(name.dropFirst(prefix.count)))
      else { continue }
      indexes.append(index)
    }
    guard indexes.count > maxFiles else { return }
    indexes.sort()
    for index in indexes[..<(indexes.count - maxFiles)] {
      try? FileManager.default.removeItem(atPath: path(index))
    }
    state.oldestLogFileIdx = indexes[0]
  }
}
