import Foundation
import MiloSys
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// How to launch a plugin binary.
public struct PluginLaunchOptions: Sendable {
  /// argv[1...] (Nomad passes the agent's `plugin { args = [...] }`; none by default).
  public var arguments: [String]
  /// The environment before go-plugin's variables are appended; nil = this process's
  /// environment (`os.Environ()`, as Nomad does).
  public var baseEnvironment: [String]?
  /// go-plugin's `StartTimeout` (1 minute by default).
  public var startTimeout: Duration
  /// The descriptor the plugin gets as stdin (Nomad gives the agent's stdin, 0).
  public var stdinDescriptor: Int32
  /// Called for every stderr line, on a reader thread (e.g. to echo it).
  public var onStderr: (@Sendable (PluginLogLine) -> Void)?
  /// How many stderr lines to keep in memory.
  public var stderrHistoryLimit: Int

  public init(
    arguments: [String] = [], baseEnvironment: [String]? = nil, startTimeout: Duration = .seconds(60),
    stdinDescriptor: Int32 = 0, onStderr: (@Sendable (PluginLogLine) -> Void)? = nil,
    stderrHistoryLimit: Int = 10_000
  ) {
    self.arguments = arguments
    self.baseEnvironment = baseEnvironment
    self.startTimeout = startTimeout
    self.stdinDescriptor = stdinDescriptor
    self.onStderr = onStderr
    self.stderrHistoryLimit = stderrHistoryLimit
  }
}

/// A running plugin process launched exactly as go-plugin's client does: the agent environment
/// plus the handshake variables, the agent's stdin, stdout and stderr as pipes; only the first
/// stdout line is parsed (later output is drained and discarded); stderr lines are classified
/// like go-plugin's `logStderr` and kept in memory.
public final class PluginProcess: Sendable {
  /// The executable.
  public let path: String
  /// The parsed handshake line.
  public let handshake: PluginHandshake
  private let child: ChildProcess
  private let stderrLog: StderrLog
  private let pipesDone: Latch<Void>

  private init(
    path: String, handshake: PluginHandshake, child: ChildProcess, stderrLog: StderrLog, pipesDone: Latch<Void>
  ) {
    self.path = path
    self.handshake = handshake
    self.child = child
    self.stderrLog = stderrLog
    self.pipesDone = pipesDone
  }

  /// The plugin's pid.
  public var pid: Int32 { child.pid }
  /// Whether the process has not exited (been reaped) yet.
  public var isRunning: Bool { child.isRunning }
  /// The exit status once the process has been reaped.
  public var exitStatus: ProcessExitStatus? { child.exitStatus }
  /// The stderr lines seen so far (bounded by `stderrHistoryLimit`).
  public var stderrLines: [PluginLogLine] { stderrLog.lines }

  /// Waits until the process has exited and been reaped (`.unknown` if the task is cancelled).
  @discardableResult
  public func waitForExit() async -> ProcessExitStatus { await child.waitForExit() ?? .unknown }

  /// Waits at most `timeout` for the process to exit.
  public func waitForExit(timeout: Duration) async -> ProcessExitStatus? {
    await child.waitForExit(timeout: timeout)
  }

  /// Waits until the process has exited and both pipes reached EOF (go-plugin's `doneCtx`).
  func waitUntilDone(timeout: Duration) async -> Bool {
    guard await child.waitForExit(timeout: timeout) != nil else { return false }
    return await pipesDone.wait(timeout: .milliseconds(200)) != nil
  }

  /// Sends SIGKILL (go-plugin's `runner.Kill`); returns false if the process is already gone.
  @discardableResult
  public func sigkill() -> Bool { child.send(signal: SIGKILL) }

  /// Sends any signal to the plugin.
  @discardableResult
  public func signal(_ signal: Int32) -> Bool { child.send(signal: signal) }

  /// Starts `path` and waits for its handshake line. On any failure the process is SIGKILLed and
  /// the error carries go-plugin's text ("timeout while waiting for plugin to start",
  /// "Unrecognized remote plugin message: ...", "fork/exec ...: ...").
  public static func launch(path: String, options: PluginLaunchOptions = PluginLaunchOptions())
    async throws(PluginStartError) -> PluginProcess
  {
    let outPipe: (Int32, Int32)
    let errPipe: (Int32, Int32)
    do {
      outPipe = try Posix.pipe()
      errPipe = try Posix.pipe()
    } catch {
      throw PluginStartError(error.description)
    }
    let environment = PluginEnvironment.build(base: options.baseEnvironment)
    let child: ChildProcess
    do {
      child = try ChildProcess.spawn(
        path: path, arguments: options.arguments, environment: environment,
        stdin: options.stdinDescriptor, stdout: outPipe.1, stderr: errPipe.1)
    } catch {
      for fd in [outPipe.0, outPipe.1, errPipe.0, errPipe.1] { close(fd) }
      throw PluginStartError(error.description)
    }
    close(outPipe.1)
    close(errPipe.1)

    let firstLine = Latch<FirstLine>()
    let stdoutDone = Latch<Void>()
    let stderrDone = Latch<Void>()
    let pipesDone = Latch<Void>()
    let stderrLog = StderrLog(limit: options.stderrHistoryLimit, onLine: options.onStderr)
    let readOut = outPipe.0
    let readErr = errPipe.0
    Blocking.detach(name: "plugin-stdout-\(child.pid)") {
      readStdout(readOut, firstLine: firstLine)
      close(readOut)
      stdoutDone.fulfil(())
      if stderrDone.isFulfilled { pipesDone.fulfil(()) }
    }
    Blocking.detach(name: "plugin-stderr-\(child.pid)") {
      stderrLog.read(readErr)
      close(readErr)
      stderrDone.fulfil(())
      if stdoutDone.isFulfilled { pipesDone.fulfil(()) }
    }

    guard let line = await firstLine.wait(timeout: options.startTimeout) else {
      child.send(signal: SIGKILL)
      if Task.isCancelled { throw PluginStartError("plugin start cancelled") }
      throw PluginStartError("timeout while waiting for plugin to start")
    }
    do {
      let handshake: PluginHandshake
      switch line {
      case .line(let text):
        handshake = try PluginHandshake.parse(text, stdoutClosed: false, diagnostics: diagnose(path))
      case .closed:
        handshake = try PluginHandshake.parse("", stdoutClosed: true, diagnostics: diagnose(path))
      }
      return PluginProcess(
        path: path, handshake: handshake, child: child, stderrLog: stderrLog, pipesDone: pipesDone)
    } catch {
      child.send(signal: SIGKILL)
      _ = await child.waitForExit(timeout: .seconds(2))
      throw error
    }
  }

  enum FirstLine: Sendable {
    case line(String)
    case closed
  }

  /// bufio.Scanner over stdout: the first line is reported, the rest is discarded.
  private static func readStdout(_ fd: Int32, firstLine: Latch<FirstLine>) {
    var pending: [UInt8] = []
    var reported = false
    let maxToken = 64 * 1024
    while true {
      guard let chunk = try? Syscall.read(fd, capacity: 64 * 1024) else { break }
      if reported { continue }
      pending.append(contentsOf: chunk)
      if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
        var line = Array(pending[..<newline])
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        firstLine.fulfil(.line(String(decoding: line, as: UTF8.self)))
        reported = true
        pending = []
      } else if pending.count > maxToken {
        // "bufio.Scanner: token too long": go-plugin then sees no line at all.
        firstLine.fulfil(.closed)
        reported = true
        pending = []
      }
    }
    if !reported {
      if pending.isEmpty {
        firstLine.fulfil(.closed)
      } else {
        firstLine.fulfil(.line(String(decoding: pending, as: UTF8.self)))
      }
    }
  }
}
