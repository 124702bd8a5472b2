import Synchronization

/// What logmon needs to know about a task's logs (Nomad's `logmon.LogConfig`).
public struct LogMonConfig: Sendable, Equatable {
  /// `alloc/logs`.
  public var logDir: String
  /// `<task>.stdout`.
  public var stdoutFileName: String
  /// `<task>.stderr`.
  public var stderrFileName: String
  /// `alloc/logs/.<task>.stdout.fifo`.
  public var stdoutFifo: String
  /// `alloc/logs/.<task>.stderr.fifo`.
  public var stderrFifo: String
  /// `logs.max_files` (default 10).
  public var maxFiles: Int
  /// `logs.max_file_size` in MB (default 10).
  public var maxFileSizeMB: Int

  /// The configuration Nomad's logmon hook builds for `task` in `logDir`.
  public init(logDir: String, task: String, maxFiles: Int = 10, maxFileSizeMB: Int = 10) {
    self.logDir = logDir
    self.stdoutFileName = "\(task).stdout"
    self.stderrFileName = "\(task).stderr"
    self.stdoutFifo = "\(logDir)/.\(task).stdout.fifo"
    self.stderrFifo = "\(logDir)/.\(task).stderr.fifo"
    self.maxFiles = maxFiles
    self.maxFileSizeMB = maxFileSizeMB
  }
}

/// A task's logmon (Nomad's `logmonImpl` + `TaskLogger`), run in-process on dedicated threads.
///
/// - `start()` creates the FIFOs if needed and starts one reader per stream; it is a no-op while
///   both readers run, and replaces them (new rotators continuing the last files) once either has
///   seen EOF, as Nomad does on a task restart.
/// - `stop()` is Nomad's `Stop`: wait up to 2 s for each reader to reach EOF, then close the read
///   ends (waiting up to 2 s more) and flush and close the files. Bytes written later are lost.
/// - `kill()` behaves like SIGKILLing the logmon process: the read ends close at once and the
///   rotators' unflushed buffers (up to 64 KiB per stream, at most 100 ms of output) are lost,
///   with a read in progress. A writer then gets EPIPE until a new reader appears. What is still
///   in a pipe is not logmon's: it stays there while the writer keeps its descriptor, and a new
///   reader of the same FIFO gets it (it is lost only if the writer closes too).
///   `lostBytes` counts exactly what logmon itself lost this way.
/// - `kill(.flushing)` is a restart that loses nothing logmon read: the readers stop at once
///   (without `stop()`'s wait for EOF), finish writing what they read, and the files are flushed.
/// - `restart(mode)` is `kill(mode)` (waiting until the old readers are gone) followed by
///   `start()`: a new logmon on the same FIFO paths.
public final class LogMon: Sendable {
  /// The configuration.
  public let config: LogMonConfig
  private let current = Mutex<TaskLogger?>(nil)
  /// Loggers ended by `kill`, kept for `lostBytes`.
  private let killed = Mutex<[TaskLogger]>([])

  public init(config: LogMonConfig) {
    self.config = config
  }

  /// Nomad's `LogMon.Start`.
  public func start() async throws {
    let existing = current.withLock { $0 }
    if let existing {
      if existing.isRunning { return }
      await existing.close()
    }
    let logger = try TaskLogger(config: config)
    current.withLock { $0 = logger }
  }

  /// Nomad's `LogMon.Stop`.
  public func stop() async {
    let logger = current.withLock { $0 }
    await logger?.close()
  }

  /// Drops the readers abruptly, losing their unflushed data (see the type's notes). Returns at
  /// once; a read in progress may still end (and be counted in `lostBytes`) just after.
  public func kill() {
    takeCurrent()?.kill()
  }

  /// Ends the readers abruptly in `mode` and waits until their threads are gone, so that what
  /// it reports is final and a new reader cannot race an old one. Nil when none was running.
  @discardableResult
  public func kill(_ mode: LogMonKillMode) async -> LogMonKillReport? {
    guard let logger = takeCurrent() else { return nil }
    switch mode {
    case .sigkill:
      logger.kill()
      await logger.waitForReaders()
    case .flushing:
      await logger.interruptAndClose()
    }
    return LogMonKillReport(
      lostBytes: logger.lostBytes,
      bytesLeftInPipes: (logger.stdout.bytesLeftInPipe, logger.stderr.bytesLeftInPipe))
  }

  /// `kill(mode)` then `start()`.
  @discardableResult
  public func restart(_ mode: LogMonKillMode = .sigkill) async throws -> LogMonKillReport? {
    let report = await kill(mode)
    try await start()
    return report
  }

  /// Bytes logmon read from the FIFOs but lost when it was killed (the rotators' unflushed
  /// buffers and reads in progress), over every `kill`: (stdout, stderr).
  public var lostBytes: (stdout: Int, stderr: Int) {
    killed.withLock { loggers in
      loggers.reduce((0, 0)) { sum, logger in
        let lost = logger.lostBytes
        return (sum.0 + lost.stdout, sum.1 + lost.stderr)
      }
    }
  }

  private func takeCurrent() -> TaskLogger? {
    let logger = current.withLock { logger -> TaskLogger? in
      defer { logger = nil }
      return logger
    }
    if let logger { killed.withLock { $0.append(logger) } }
    return logger
  }

  /// True while both readers run (Nomad's `TaskLogger.IsRunning`).
  public var isRunning: Bool { current.withLock { $0?.isRunning ?? false } }

  /// Bytes copied by the current readers: (stdout, stderr).
  public var bytesCopied: (stdout: Int, stderr: Int) {
    current.withLock { ($0?.stdout.bytesCopied ?? 0, $0?.stderr.bytesCopied ?? 0) }
  }

  /// Errors that ended the current readers, if any.
  public var errors: [String] {
    current.withLock { logger in [logger?.stdout.error, logger?.stderr.error].compactMap { $0 } }
  }
}

/// The two readers and their rotators.
final class TaskLogger: Sendable {
  let stdout: FifoReader
  let stderr: FifoReader
  /// Bytes dropped by `kill` from each rotator's buffer: [stdout, stderr].
  private let abandoned = Mutex<[Int]>([0, 0])

  init(config: LogMonConfig) throws {
    let size = Int64(config.maxFileSizeMB) * 1024 * 1024
    let outRotator: FileRotator
    do {
      outRotator = try FileRotator(
        directory: config.logDir, baseName: config.stdoutFileName, maxFiles: config.maxFiles, fileSize: size)
    } catch {
      throw LogMonError("failed to create stdout logfile for \(goQuote(config.stdoutFileName)): \(error)")
    }
    stdout = try FifoReader(path: config.stdoutFifo, rotator: outRotator)
    let errRotator: FileRotator
    do {
      errRotator = try FileRotator(
        directory: config.logDir, baseName: config.stderrFileName, maxFiles: config.maxFiles, fileSize: size)
    } catch {
      stdout.interrupt()
      throw LogMonError("failed to create stderr logfile for \(goQuote(config.stderrFileName)): \(error)")
    }
    stderr = try FifoReader(path: config.stderrFifo, rotator: errRotator)
  }

  var isRunning: Bool { stdout.isRunning && stderr.isRunning }

  func close() async {
    async let out: Void = Self.close(stdout)
    async let err: Void = Self.close(stderr)
    _ = await (out, err)
  }

  /// `logRotatorWrapper.Close`.
  private static func close(_ reader: FifoReader) async {
    _ = await reader.finished.wait(timeout: .seconds(2))
    if reader.isRunning {
      reader.interrupt()
      _ = await reader.finished.wait(timeout: .seconds(2))
    }
    reader.rotator.close()
  }

  /// SIGKILL: readers interrupted, rotators abandoned (their buffers counted as lost).
  func kill() {
    for reader in [stdout, stderr] {
      reader.interrupt()
      let lost = reader.rotator.abandon()
      abandoned.withLock { $0[reader === stdout ? 0 : 1] += lost }
    }
  }

  /// Interrupts the readers, waits for them to finish writing what they read, then flushes and
  /// closes the files.
  func interruptAndClose() async {
    for reader in [stdout, stderr] { reader.interrupt() }
    await waitForReaders()
    for reader in [stdout, stderr] { reader.rotator.close() }
  }

  func waitForReaders() async {
    for reader in [stdout, stderr] { _ = await reader.finished.wait() }
  }

  /// Bytes lost by `kill`: abandoned rotator buffers plus reads whose write then failed.
  var lostBytes: (stdout: Int, stderr: Int) {
    let buffers = abandoned.withLock { $0 }
    return (buffers[0] + stdout.bytesDiscarded, buffers[1] + stderr.bytesDiscarded)
  }
}

/// What one `LogMon.kill(_:)` did to the data.
public struct LogMonKillReport: Sendable {
  /// Bytes logmon had read but lost (always 0 for `.flushing`): (stdout, stderr).
  public var lostBytes: (stdout: Int, stderr: Int)
  /// Bytes still unread in each FIFO's pipe when its read end closed. They are not lost while
  /// the writer keeps the FIFO open: the next reader gets them.
  public var bytesLeftInPipes: (stdout: Int, stderr: Int)
}

/// How `LogMon.kill(_:)` ends the readers.
public enum LogMonKillMode: Sendable {
  /// Like SIGKILL: what the rotators buffered and a read in progress are lost (`lostBytes`).
  case sigkill
  /// A restart that loses nothing logmon read: the readers stop at once (no wait for EOF),
  /// write what they read, and the files are flushed and closed.
  case flushing
}
