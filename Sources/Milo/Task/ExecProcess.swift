import Foundation
import MiloSupervisor
import MiloSys
import Synchronization

/// One command run inside a task's container with `<runtime> exec`, as the task's user, with
/// `no_new_privs`.
///
/// Life cycle: `start` → (`writeInput`/`closeInput`/`resize`, output through `pump`) → `wait`
/// → `finishIO` (after a short grace for the last output) → `release`. `kill` may be called at
/// any time (timeouts, a caller that went away). Everything it creates in the task's state dir
/// (pid file, runtime log, console socket) is removed by `wait`/`start`.
final class ExecProcess: Sendable {
  /// The runtime process (`crun exec`), our child; the command is its child.
  let pid: Int32
  /// A pidfd for the runtime process, so signals can never reach a reused pid.
  let pidfd: PidFD?
  /// The command's stdout and stderr pipes (the runtime's own errors come on stderr too).
  let stdoutFD: Int32
  let stderrFD: Int32
  /// The pty master, when the command has a terminal (-1 otherwise).
  let terminalFD: Int32
  let pidFile: String
  let logFile: String
  /// Written to once to stop the pumps and the input writer.
  private let stopRead: Int32
  private let stopWrite: Int32
  private let input: InputWriter?
  /// What `wait`, `kill`, `resize`, `finishIO` and `release` agree on.
  let state = Mutex(State())

  struct State {
    var exited = false
    var killing = false
    var released = false
    var stopped = false
  }

  private init(
    pid: Int32, stdin: Int32, stdout: Int32, stderr: Int32, terminal: Int32, pidFile: String, logFile: String,
    stop: (Int32, Int32)
  ) {
    self.pid = pid
    self.pidfd = try? PidFD(pid: pid)
    self.stdoutFD = stdout
    self.stderrFD = stderr
    self.terminalFD = terminal
    self.pidFile = pidFile
    self.logFile = logFile
    self.stopRead = stop.0
    self.stopWrite = stop.1
    if terminal >= 0 {
      input = InputWriter(fd: terminal, ownsFD: false, terminal: true, stopFD: stop.0)
    } else if stdin >= 0 {
      input = InputWriter(fd: stdin, ownsFD: true, terminal: false, stopFD: stop.0)
    } else {
      input = nil
    }
  }

  /// The output descriptors to pump, with whether each is stderr. With a terminal, the
  /// command's output (stdout and stderr together, as on any terminal) comes from the pty.
  var outputs: [(fd: Int32, stderr: Bool)] {
    terminalFD >= 0
      ? [(terminalFD, false), (stdoutFD, false), (stderrFD, true)] : [(stdoutFD, false), (stderrFD, true)]
  }

  /// Starts `command` in the container described by `state`.
  static func start(
    state: DriverState, user: String, command: [String], tty: Bool, stdin: Bool, cwd: String = "/"
  ) async throws -> ExecProcess {
    let token = UUID().uuidString.prefix(8).lowercased()
    let paths = state.paths
    let pidFile = paths.execPidFile(String(token))
    let logFile = paths.execLog(String(token))
    var execOptions = RuntimeCommand.ExecOptions(pidFile: pidFile, user: user, cwd: cwd)
    var socketPath: String?
    var socketDir: String?
    var console: ConsoleSocket?
    if tty {
      let (path, privateDir) = try consoleSocketPath(state: state, token: String(token))
      do {
        console = try ConsoleSocket(listeningAt: path)
      } catch {
        if let privateDir { rmdir(privateDir) }
        throw error
      }
      socketPath = path
      socketDir = privateDir
      execOptions.consoleSocket = path
    }
    let args = state.runtime.logging(to: logFile).execArguments(
      containerID: state.containerID, command: command, options: execOptions)

    func closeAll(_ fds: [Int32]) { fds.filter { $0 >= 0 }.forEach { close($0) } }
    func removeFiles() {
      if let socketPath { unlink(socketPath) }
      if let socketDir { rmdir(socketDir) }
      unlink(pidFile)
      unlink(logFile)
    }
    // stdout, stderr, stdin, and the pipe that stops the pumps and the input writer.
    var pipes: [(read: Int32, write: Int32)] = []
    func closePipes() { closeAll(pipes.flatMap { [$0.read, $0.write] } + [console?.fd ?? -1]) }
    do {
      for _ in 0..<4 { pipes.append(try Posix.pipe()) }
    } catch {
      closePipes()
      removeFiles()
      throw error
    }
    let (outPipe, errPipe, stopPipe) = (pipes[0], pipes[1], pipes[3])
    var inPipe = pipes[2]
    let pid: Int32
    do {
      // The runtime gets only PATH: the command's environment is the container's (config.json).
      pid = try Spawn.start(
        args, environment: ["PATH=" + Environment.defaultSearchPath],
        stdio: .init(stdin: stdin && !tty ? inPipe.read : -1, stdout: outPipe.write, stderr: errPipe.write))
    } catch {
      closePipes()
      removeFiles()
      throw error
    }
    close(outPipe.write)
    close(errPipe.write)
    close(inPipe.read)
    var terminal: Int32 = -1
    if let socketPath, let console {
      let runtime = try? PidFD(pid: pid)
      // Returns early (ECHILD) if the runtime exits without connecting.
      let received = await Blocking.run { console.receiveTerminal(timeoutMilliseconds: 10_000, runtime: runtime) }
      runtime?.close()
      close(console.fd)
      unlink(socketPath)
      if let socketDir { rmdir(socketDir) }
      switch received {
      case .success(let fd): terminal = fd
      case .failure(let error):
        Glibc.kill(pid, SIGKILL)
        _ = await Blocking.run { Spawn.waitFor(pid) }
        let message = Self.runtimeErrors(logFile).joined(separator: "; ")
        let errRead = errPipe.read
        let output = await Blocking.run { Self.drain(errRead) }
        closeAll([outPipe.read, errPipe.read, inPipe.write, stopPipe.read, stopPipe.write])
        removeFiles()
        throw ExecError(
          !message.isEmpty
            ? message
            : !output.isEmpty
              ? output.trimmingCharacters(in: .whitespacesAndNewlines)
              : "the runtime did not open a terminal (\(error))")
      }
      Posix.setNonBlocking(terminal)
    }
    if !stdin || tty {
      close(inPipe.write)
      inPipe.write = -1
    } else {
      Posix.setNonBlocking(inPipe.write)
    }
    return ExecProcess(
      pid: pid, stdin: inPipe.write, stdout: outPipe.read, stderr: errPipe.read, terminal: terminal, pidFile: pidFile,
      logFile: logFile, stop: (stopPipe.read, stopPipe.write))
  }

  /// Where the runtime sends the terminal: in the task's state dir, or — when that path would
  /// not fit a unix socket address (108 bytes; long state dirs or task names) — in a private
  /// directory made for it under /tmp (returned too, to be removed with the socket).
  static func consoleSocketPath(state: DriverState, token: String) throws -> (path: String, privateDir: String?) {
    let preferred = state.paths.consoleSocket(token)
    if preferred.utf8.count < maxSocketPath { return (preferred, nil) }
    var template = Array("/tmp/milo-console-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { buffer in
      buffer.baseAddress.flatMap { mkdtemp($0) }.map { String(cString: $0) }
    }
    guard let made else { throw SystemError("mkdtemp /tmp/milo-console-XXXXXX") }
    return (made + "/\(token).sock", made)
  }

  /// sizeof(sockaddr_un.sun_path).
  static let maxSocketPath = 108

  /// Queues bytes for the command's input (the terminal when it has one); never blocks.
  func writeInput(_ bytes: [UInt8]) {
    input?.write(bytes)
  }

  /// Closes the command's input once queued input is written (EOF; Ctrl-D on a terminal).
  func closeInput() {
    input?.close()
  }

  /// Sets the terminal's size (the command gets SIGWINCH).
  func resize(rows: Int, cols: Int) {
    guard terminalFD >= 0 else { return }
    state.withLock { state in
      // Under the lock, so the descriptor cannot be released (and reused) meanwhile.
      if !state.released {
        ConsoleSocket.setWindowSize(terminalFD, rows: UInt16(clamping: rows), cols: UInt16(clamping: cols))
      }
    }
  }

  /// Waits for the runtime process and removes its pid and log files. The result is the
  /// command's exit, or — when the runtime could not run it — 127 (not found) or 126 (not
  /// executable), with the runtime's explanation on stderr, as a shell reports them.
  /// Other runtime failures (e.g. the container is gone) throw `ExecError`.
  func wait() async throws -> ExecOutcome {
    let pid = self.pid
    let status = await Blocking.run { Spawn.waitFor(pid) }
    state.withLock { $0.exited = true }
    let errors = Self.runtimeErrors(logFile)
    unlink(pidFile)
    unlink(logFile)
    let code = WaitStatus(status).shellExitCode
    if code != 0, !errors.isEmpty {
      let text = errors.joined(separator: "; ")
      if errors.contains(where: { $0.contains("not found in $PATH") || $0.hasPrefix("executable file") }) {
        return ExecOutcome(exitCode: 127, signal: 0, runtimeError: text)
      }
      // "open executable: Permission denied" (no x bit), "...: Operation not permitted" (a directory).
      let notExecutable = ["open executable", "Permission denied", "Exec format error"]
      if errors.contains(where: { error in notExecutable.contains { error.contains($0) } }) {
        return ExecOutcome(exitCode: 126, signal: 0, runtimeError: text)
      }
      throw ExecError(text)
    }
    // The runtime exits with the command's status, 128+N when a signal N ended it.
    return ExecOutcome(exitCode: code, signal: code > 128 && code < 160 ? code - 128 : 0, runtimeError: nil)
  }

  /// The `error` messages the runtime logged (its own failures, never the command's output).
  static func runtimeErrors(_ logFile: String) -> [String] {
    guard let text = Posix.readText(logFile) else { return [] }
    var messages: [String] = []
    for line in text.split(separator: "\n") {
      guard let data = line.data(using: .utf8),
        let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
      else {
        messages.append(String(line))
        continue
      }
      if (object["level"] as? String) == "error", let message = object["msg"] as? String {
        messages.append(message)
      }
    }
    return messages
  }

  /// Stops the pumps and the input writer (call after `wait`, once the output had its grace).
  func finishIO() {
    let first = state.withLock { state -> Bool in
      guard !state.stopped, !state.released else { return false }
      state.stopped = true
      _ = Posix.writeAll(stopWrite, [1])
      return true
    }
    if first { input?.stop() }
  }

  /// Waits until the input writer has finished with its descriptor.
  func waitForInputWriter() async {
    await input?.finished()
  }

  /// Releases every descriptor. Call once, after the pumps returned and the input writer ended.
  func release() {
    let first = state.withLock { state -> Bool in
      defer { state.released = true }
      return !state.released
    }
    guard first else { return }
    [stdoutFD, stderrFD, terminalFD, stopRead, stopWrite].filter { $0 >= 0 }.forEach { close($0) }
    pidfd?.close()
  }

  /// Reads `fd` until EOF (or EIO: a pty master whose terminal is gone) or until `finishIO`,
  /// calling `body` with each chunk. Blocks: run it on `Blocking`.
  func pump(_ fd: Int32, _ body: ([UInt8]) -> Void) {
    var chunk = [UInt8](repeating: 0, count: 32 << 10)
    var fds = [
      pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: stopRead, events: Int16(POLLIN), revents: 0),
    ]
    while true {
      fds[0].revents = 0
      fds[1].revents = 0
      let ready = poll(&fds, 2, -1)
      if ready < 0 {
        if errno == EINTR { continue }
        return
      }
      if fds[1].revents != 0 { return }
      guard fds[0].revents != 0 else { continue }
      let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
      if n <= 0 { return }
      body(Array(chunk[0..<n]))
    }
  }

  /// Reads a descriptor to EOF (only for a runtime that already exited).
  static func drain(_ fd: Int32) -> String {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
      let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      bytes += chunk[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}

/// How an exec ended: the exit code, the signal (when the code is 128+N) and, for a command the
/// runtime could not start, the runtime's explanation.
struct ExecOutcome: Sendable, Equatable {
  var exitCode: Int32
  var signal: Int32
  var runtimeError: String?
}

/// An exec failure, with the runtime's explanation.
struct ExecError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
