import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Which log stream.
public enum LogType: String, Sendable, CaseIterable {
  case stdout, stderr
}

/// Where an offset counts from (`origin=start|end`).
public enum LogOrigin: String, Sendable {
  case start, end
}

/// A request for a task's rotated logs, as `/v1/client/fs/logs` takes it.
public struct LogStreamRequest: Sendable, Equatable {
  /// The alloc's `alloc/logs` directory.
  public var logDir: String
  public var task: String
  public var type: LogType
  public var origin: LogOrigin
  /// Bytes from the origin (from the end: bytes back from the end).
  public var offset: Int64
  /// Keep streaming new output, across rotations.
  public var follow: Bool
  /// How often to look for growth and new files while following (Nomad: 100 ms).
  public var pollInterval: Duration

  public init(
    logDir: String, task: String, type: LogType = .stdout, origin: LogOrigin = .start, offset: Int64 = 0,
    follow: Bool = false, pollInterval: Duration = .milliseconds(100)
  ) {
    self.logDir = logDir
    self.task = task
    self.type = type
    self.origin = origin
    self.offset = offset
    self.follow = follow
    self.pollInterval = pollInterval
  }
}

/// One piece of a log stream (Nomad's `StreamFrame`).
public struct LogFrame: Sendable, Equatable {
  /// The bytes (may be empty for an event).
  public var data: [UInt8]
  /// `alloc/logs/<task>.<type>.<N>`.
  public var file: String
  /// The file offset after `data`.
  public var offset: Int64
  /// "file deleted" or "file truncated".
  public var fileEvent: String?
}

/// Errors of the logs endpoint, with Nomad's texts.
public struct LogReadError: Error, CustomStringConvertible, Sendable, Equatable {
  public var description: String
  public init(_ description: String) { self.description = description }
}

/// Reads a task's rotated log files the way Nomad's `/v1/client/fs/logs` does
/// (`client/fs_endpoint.go`: `logsImpl`, `findClosest`, `streamFile`, `blockUntilNextLog`), by
/// reading the files directly and polling for growth, truncation, deletion and new indexes.
public enum AllocLogReader {
  /// The frames of a log stream. Without `follow` it ends at the end of the file that was last
  /// when the request started. With `follow` it runs until the consumer stops iterating.
  public static func frames(_ request: LogStreamRequest) -> AsyncThrowingStream<LogFrame, any Error> {
    let events = events(request)
    return AsyncThrowingStream { continuation in
      let task = Task {
        do {
          for try await event in events {
            if case .frame(let frame) = event { continuation.yield(frame) }
          }
          continuation.finish()
        } catch {
          continuation.finish(throwing: error)
        }
      }
      continuation.onTermination = { _ in task.cancel() }
    }
  }

  /// The bytes of a log stream (frames' data only).
  public static func bytes(_ request: LogStreamRequest) -> AsyncThrowingStream<[UInt8], any Error> {
    let frames = frames(request)
    return AsyncThrowingStream { continuation in
      let task = Task {
        do {
          for try await frame in frames where !frame.data.isEmpty { continuation.yield(frame.data) }
          continuation.finish()
        } catch {
          continuation.finish(throwing: error)
        }
      }
      continuation.onTermination = { _ in task.cancel() }
    }
  }

  /// Stream items: frames, and idle ticks while waiting at EOF (used by the line limiter).
  enum Event: Sendable {
    case frame(LogFrame)
    case idle
  }

  static func events(_ request: LogStreamRequest) -> AsyncThrowingStream<Event, any Error> {
    let (stream, continuation) = AsyncThrowingStream<Event, any Error>.makeStream()
    let task = Task {
      do {
        try await logsImpl(request) { continuation.yield($0) }
        continuation.finish()
      } catch is CancellationError {
        continuation.finish()
      } catch {
        continuation.finish(throwing: error)
      }
    }
    continuation.onTermination = { _ in task.cancel() }
    return stream
  }

  // MARK: - Nomad's algorithm

  struct Entry: Equatable {
    var name: String
    var index: Int64
    var size: Int64
  }

  /// `logIndexes`: entries `<task>.<type>.<N>` that are not directories, sorted by N.
  static func logIndexes(directory: String, task: String, type: LogType) throws(LogReadError) -> [Entry] {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
      throw LogReadError("failed to list entries: open \(directory): no such file or directory")
    }
    let prefix = "\(task).\(type.rawValue)."
    var entries: [Entry] = []
    for name in names where name.hasPrefix(prefix) {
      var info = stat()
      guard stat("\(directory)/\(name)", &info) == 0, info.st_mode & S_IFMT != S_IFDIR else { continue }
      let suffix = String(name.dropFirst(prefix.count))
      guard let index = PluginHandshake.goAtoi(suffix) else {
        throw LogReadError(
          "failed to convert \(goQuote(suffix)) to a log index: strconv.Atoi: parsing \(goQuote(suffix)): invalid syntax"
        )
      }
      entries.append(Entry(name: name, index: Int64(index), size: Int64(info.st_size)))
    }
    return entries.sorted { $0.index < $1.index }
  }

  /// `findClosest`: the file at or after `desiredIndex` (else the last one) and the offset in it,
  /// walking backwards (negative offsets) or forwards across files.
  static func findClosest(
    _ entries: [Entry], desiredIndex: Int64, desiredOffset: Int64, task: String, type: LogType
  ) throws(LogReadError) -> (entry: Entry, offset: Int64) {
    guard !entries.isEmpty else {
      throw LogReadError("log entry for task \(goQuote(task)) and log type \(goQuote(type.rawValue)) not found")
    }
    var i = entries.firstIndex { $0.index >= desiredIndex } ?? entries.count - 1
    var offset = desiredOffset
    while true {
      let size = entries[i].size
      if offset == 0 { break }
      if offset < 0 {
        let newOffset = size + offset
        if newOffset >= 0 {
          offset = newOffset
          break
        } else if i == 0 {
          offset = 0
          break
        } else {
          offset = newOffset
          i -= 1
        }
      } else {
        if offset <= size { break }
        if i == entries.count - 1 {
          offset = size
          break
        }
        offset -= size
        i += 1
      }
    }
    return (entries[i], offset)
  }

  static func logsImpl(_ request: LogStreamRequest, emit: (Event) -> Void) async throws {
    var nextIndex: Int64 = request.origin == .start ? 0 : Int64.max
    var offset = request.origin == .start ? request.offset : -request.offset
    while true {
      try Task.checkCancellation()
      let entries = try logIndexes(directory: request.logDir, task: request.task, type: request.type)
      var maxIndex = Int64.max
      if !request.follow {
        maxIndex = try findClosest(
          entries, desiredIndex: Int64.max, desiredOffset: 0, task: request.task, type: request.type
        )
        .entry.index
      }
      let (entry, openOffset) = try findClosest(
        entries, desiredIndex: nextIndex, desiredOffset: offset, task: request.task, type: request.type)
      if !request.follow && entry.index > maxIndex { return }
      let exitAfter = !request.follow && entry.index == maxIndex
      let completed = try await streamFile(
        request, entry: entry, offset: openOffset, stopAtFirstEOF: exitAfter, emit: emit)
      if !completed { continue }  // The file vanished (rotated out): list again.
      if exitAfter { return }
      offset = 0
      nextIndex = entry.index + 1
    }
  }

  /// `streamFile`; returns false when the file did not exist any more.
  private static func streamFile(
    _ request: LogStreamRequest, entry: Entry, offset startOffset: Int64, stopAtFirstEOF: Bool,
    emit: (Event) -> Void
  ) async throws -> Bool {
    let path = "\(request.logDir)/\(entry.name)"
    let relative = "alloc/logs/\(entry.name)"
    var fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      if errno == ENOENT { return false }
      throw LogReadError("failed to stream \(goQuote(relative)): open \(path): \(Syscall.errorText(errno))")
    }
    defer { close(fd) }
    var offset = startOffset
    _ = lseek(fd, off_t(offset), SEEK_SET)
    var cancelReceived = stopAtFirstEOF
    var lastEvent: String?
    let capacity = 64 * 1024
    var buffer = [UInt8](repeating: 0, count: capacity)
    outer: while true {
      try Task.checkCancellation()
      let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, capacity) }
      if n < 0 {
        if errno == EINTR { continue }
        throw LogReadError("failed to stream \(goQuote(relative)): read \(path): \(Syscall.errorText(errno))")
      }
      offset += Int64(n)
      if n > 0 || lastEvent != nil {
        emit(.frame(LogFrame(data: Array(buffer[..<n]), file: relative, offset: offset, fileEvent: lastEvent)))
        lastEvent = nil
      }
      if n > 0 { continue }
      if cancelReceived { return true }
      // At EOF: wait for the file to change or for the next file to appear. Look at once first:
      // Nomad's `blockUntilNextLog` watch runs while the file is streamed and fires without
      // delay when the next file already exists (reading rotated files must not cost a poll
      // interval per file).
      var waited = false
      while true {
        emit(.idle)
        if waited { try await Task.sleep(for: request.pollInterval) }
        waited = true
        var info = stat()
        if stat(path, &info) != 0 {
          emit(.frame(LogFrame(data: [], file: relative, offset: offset, fileEvent: "file deleted")))
          return true
        }
        let size = Int64(info.st_size)
        if size < offset {
          close(fd)
          fd = open(path, O_RDONLY | O_CLOEXEC)
          guard fd >= 0 else { return false }
          offset = 0
          lastEvent = "file truncated"
          continue outer
        }
        if size > offset { continue outer }
        if nextLogExists(request, after: entry.index) {
          // Read one more time to catch what was written before the rotation.
          cancelReceived = true
          continue outer
        }
      }
    }
  }

  /// `blockUntilNextLog`'s condition: `<task>.<type>.<idx+1>` exists or any higher index is listed.
  private static func nextLogExists(_ request: LogStreamRequest, after index: Int64) -> Bool {
    let next = "\(request.logDir)/\(request.task).\(request.type.rawValue).\(index + 1)"
    if access(next, F_OK) == 0 { return true }
    guard let entries = try? logIndexes(directory: request.logDir, task: request.task, type: request.type) else {
      return false
    }
    return entries.contains { $0.index >= index + 1 }
  }
}
