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
///   rotators' unflushed buffers (up to 64 KiB per stream, at most 100 ms of output) are lost, as
///   is anything still in the pipes. A writer then gets EPIPE until a new reader appears.
/// - `restart()` is `kill()` followed by `start()`: a new logmon on the same FIFO paths.
public final class LogMon: Sendable {
  /// The configuration.
  public let config: LogMonConfig
  private let current = Mutex<TaskLogger?>(nil)

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

  /// Drops the readers abruptly, losing unflushed and unread data (see the type's notes).
  public func kill() {
    let logger = current.withLock { logger -> TaskLogger? in
      defer { logger = nil }
      return logger
    }
    logger?.kill()
  }

  /// `kill()` then `start()`.
  public func restart() async throws {
    kill()
    try await start()
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

  func kill() {
    for reader in [stdout, stderr] {
      reader.interrupt()
      reader.rotator.abandon()
    }
  }
}
