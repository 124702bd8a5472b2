import Foundation

/// The options of `nomad alloc logs`.
public struct AllocLogsOptions: Sendable, Equatable {
  /// `-f`.
  public var follow: Bool
  /// `-stdout` (explicitly).
  public var stdout: Bool
  /// `-stderr`.
  public var stderr: Bool
  /// `-tail`.
  public var tail: Bool
  /// `-n` (-1 = unset).
  public var lines: Int64
  /// `-c` (-1 = unset).
  public var bytes: Int64

  public init(
    follow: Bool = false, stdout: Bool = false, stderr: Bool = false, tail: Bool = false, lines: Int64 = -1,
    bytes: Int64 = -1
  ) {
    self.follow = follow
    self.stdout = stdout
    self.stderr = stderr
    self.tail = tail
    self.lines = lines
    self.bytes = bytes
  }
}

/// What `nomad alloc logs` would stream for some options (`command/alloc_logs.go`).
public enum AllocLogsPlan: Sendable, Equatable {
  /// `-f` alone: follow both streams with `origin=end, offset=0`, which Nomad's `findClosest`
  /// resolves to the start of the current (highest-numbered) file.
  case both(stdout: LogStreamRequest, stderr: LogStreamRequest)
  /// One stream, optionally keeping only the last `lineLimit` lines of the first
  /// `lineLimit * 120` bytes.
  case single(LogStreamRequest, lineLimit: Int?)

  /// `bytesToLines`.
  public static let bytesPerLine: Int64 = 120
  /// `defaultTailLines`.
  public static let defaultTailLines: Int64 = 10

  /// Nomad's option handling, with its errors ("Unable to support both stdout and stderr",
  /// "both -n and -c set").
  public static func make(options: AllocLogsOptions, logDir: String, task: String) throws(LogReadError)
    -> AllocLogsPlan
  {
    if options.follow && !(options.stderr || options.stdout || options.tail || options.lines > 0 || options.bytes > 0) {
      return .both(
        stdout: LogStreamRequest(logDir: logDir, task: task, type: .stdout, origin: .end, offset: 0, follow: true),
        stderr: LogStreamRequest(logDir: logDir, task: task, type: .stderr, origin: .end, offset: 0, follow: true))
    }
    if options.stderr && options.stdout { throw LogReadError("Unable to support both stdout and stderr") }
    let type: LogType = options.stderr ? .stderr : .stdout
    guard options.tail else {
      return .single(
        LogStreamRequest(logDir: logDir, task: task, type: type, origin: .start, offset: 0, follow: options.follow),
        lineLimit: nil)
    }
    var offset = defaultTailLines * bytesPerLine
    var lines = options.lines
    if options.lines != -1 && options.bytes != -1 {
      throw LogReadError("both -n and -c set")
    } else if options.lines != -1 {
      offset = options.lines * bytesPerLine
    } else if options.bytes != -1 {
      offset = options.bytes
    } else {
      lines = defaultTailLines
    }
    return .single(
      LogStreamRequest(logDir: logDir, task: task, type: type, origin: .end, offset: offset, follow: options.follow),
      lineLimit: lines != -1 ? Int(lines) : nil)
  }
}

extension AllocLogReader {
  /// The bytes `nomad alloc logs` prints for a single-stream plan, with the line limiter applied.
  public static func output(_ request: LogStreamRequest, lineLimit: Int?) -> AsyncThrowingStream<[UInt8], any Error> {
    guard let lineLimit else { return bytes(request) }
    let events = events(request)
    return AsyncThrowingStream { continuation in
      let task = Task {
        var limiter = LineLimiter(lines: lineLimit, searchLimit: lineLimit * Int(AllocLogsPlan.bytesPerLine))
        do {
          for try await event in events {
            let output: [UInt8]
            switch event {
            case .frame(let frame): output = limiter.feed(frame.data)
            case .idle: output = limiter.idle()
            }
            if !output.isEmpty { continuation.yield(output) }
          }
          let rest = limiter.finish()
          if !rest.isEmpty { continuation.yield(rest) }
          continuation.finish()
        } catch {
          continuation.finish(throwing: error)
        }
      }
      continuation.onTermination = { _ in task.cancel() }
    }
  }
}

/// Nomad's `LineLimitReader`: buffers up to `searchLimit` bytes (or until EOF, or 1 s without
/// data), keeps the last `lines` lines of that buffer (a trailing newline does not count), then
/// passes everything through.
public struct LineLimiter: Sendable {
  public let lines: Int
  public let searchLimit: Int
  public let timeLimit: Duration
  private var buffer: [UInt8] = []
  private var filled = false
  private var lastRead: ContinuousClock.Instant?

  public init(lines: Int, searchLimit: Int, timeLimit: Duration = .seconds(1)) {
    self.lines = lines
    self.searchLimit = searchLimit
    self.timeLimit = timeLimit
  }

  /// Feeds data; returns what to print now.
  public mutating func feed(_ data: [UInt8]) -> [UInt8] {
    if filled { return data }
    buffer += data
    lastRead = .now
    if buffer.count >= searchLimit { return release() }
    return []
  }

  /// Called while no data arrives; releases the buffer after `timeLimit` without data.
  public mutating func idle() -> [UInt8] {
    guard !filled else { return [] }
    guard let lastRead else {
      lastRead = .now
      return []
    }
    if ContinuousClock.now - lastRead > timeLimit { return release() }
    return []
  }

  /// End of input: releases whatever is buffered.
  public mutating func finish() -> [UInt8] {
    filled ? [] : release()
  }

  private mutating func release() -> [UInt8] {
    filled = true
    defer { buffer = [] }
    guard !buffer.isEmpty else { return [] }
    var found = 0
    var i = buffer.count - 1
    var lastIndex = buffer.count - 1
    while found < lines && i >= 0 {
      if buffer[i] == UInt8(ascii: "\n") {
        lastIndex = i
        if i != buffer.count - 1 { found += 1 }
      }
      i -= 1
    }
    if found == lines { return Array(buffer[(lastIndex + 1)...]) }
    return buffer
  }
}
