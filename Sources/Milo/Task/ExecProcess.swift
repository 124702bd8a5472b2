import CMiloSys
import Foundation
import MiloSupervisor
import Synchronization

/// One command run inside a task's container with `<runtime> exec`, as the task's user.
final class ExecProcess: Sendable {
  let pid: Int32
  /// Where the command's output comes from: stdout and stderr pipes, or one pty master.
  let stdoutFD: Int32
  let stderrFD: Int32
  private let input = Mutex<Int32>(-1)
  /// The pty master, when the command has a terminal.
  let terminalFD: Int32
  let pidFile: String

  private init(pid: Int32, stdin: Int32, stdout: Int32, stderr: Int32, terminal: Int32, pidFile: String) {
    self.pid = pid
    self.stdoutFD = stdout
    self.stderrFD = stderr
    self.terminalFD = terminal
    self.pidFile = pidFile
    input.withLock { $0 = stdin }
  }

  /// Starts `command` in the container described by `state`.
  static func start(state: DriverState, user: String, command: [String], tty: Bool, stdin: Bool)
    async throws -> ExecProcess
  {
    let token = UUID().uuidString.prefix(8)
    let pidFile = state.taskStateDir + "/exec-\(token).pid"
    var args = [state.runtimePath, "--root", state.runtimeRoot, "exec", "--pid-file", pidFile, "--user", user,
      "--no-new-privs", "--cwd", "/"]
    var socketPath: String?
    var listenFD: Int32 = -1
    if tty {
      let path = state.taskStateDir + "/console-\(token).sock"
      listenFD = milo_console_socket_listen(path)
      guard listenFD >= 0 else { throw SystemError("console socket \(path)", errno: -listenFD) }
      socketPath = path
      args += ["--tty", "--console-socket", path]
    }
    args += [state.containerID] + command

    var outPipe: [Int32] = [-1, -1]
    var errPipe: [Int32] = [-1, -1]
    var inPipe: [Int32] = [-1, -1]
    guard milo_pipe2(&outPipe, O_CLOEXEC) == 0, milo_pipe2(&errPipe, O_CLOEXEC) == 0,
      milo_pipe2(&inPipe, O_CLOEXEC) == 0
    else { throw SystemError("pipe2") }
    let pid: Int32
    do {
      pid = try Spawn.start(
        args, environment: currentEnvironment(),
        stdio: .init(stdin: stdin && !tty ? inPipe[0] : -1, stdout: outPipe[1], stderr: errPipe[1]))
    } catch {
      [outPipe[0], outPipe[1], errPipe[0], errPipe[1], inPipe[0], inPipe[1]].forEach { close($0) }
      if listenFD >= 0 { close(listenFD) }
      throw error
    }
    close(outPipe[1])
    close(errPipe[1])
    close(inPipe[0])
    var terminal: Int32 = -1
    if let socketPath {
      let listen = listenFD
      terminal = await Blocking.run { milo_console_socket_receive(listen, 10_000) }
      close(listenFD)
      unlink(socketPath)
      if terminal < 0 {
        Glibc.kill(pid, SIGKILL)
        _ = Spawn.waitFor(pid)
        let message = Self.drain(errPipe[0])
        [outPipe[0], errPipe[0], inPipe[1]].forEach { close($0) }
        throw ExecError(message.isEmpty ? "the runtime did not open a terminal" : message)
      }
    }
    if !stdin || tty {
      close(inPipe[1])
      inPipe[1] = -1
    }
    return ExecProcess(
      pid: pid, stdin: inPipe[1], stdout: outPipe[0], stderr: errPipe[0], terminal: terminal, pidFile: pidFile)
  }

  /// Writes to the command's input (the terminal when it has one).
  func writeInput(_ bytes: [UInt8]) {
    let fd = terminalFD >= 0 ? terminalFD : input.withLock { $0 }
    if fd >= 0 { Posix.writeAll(fd, bytes) }
  }

  /// Closes the command's input (sends EOF; Ctrl-D on a terminal).
  func closeInput() {
    if terminalFD >= 0 {
      Posix.writeAll(terminalFD, [0x04])
      return
    }
    input.withLock { fd in
      if fd >= 0 { close(fd) }
      fd = -1
    }
  }

  func resize(rows: Int, cols: Int) {
    if terminalFD >= 0 {
      _ = milo_set_window_size(terminalFD, UInt16(clamping: rows), UInt16(clamping: cols))
    }
  }

  /// Kills the command (inside the container) and the runtime process.
  func kill() {
    if let text = Posix.readText(pidFile), let inner = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
      Glibc.kill(inner, SIGKILL)
    }
    Glibc.kill(pid, SIGKILL)
  }

  /// Waits for the runtime process; returns its exit code (the command's, or 128+signal).
  func wait() async -> Int32 {
    let pid = self.pid
    let status = await Blocking.run { Spawn.waitFor(pid) }
    unlink(pidFile)
    closeInput()
    return Spawn.exitCode(status)
  }

  /// Releases the output descriptors.
  func release() {
    [stdoutFD, stderrFD, terminalFD].filter { $0 >= 0 }.forEach { close($0) }
    input.withLock { fd in
      if fd >= 0 { close(fd) }
      fd = -1
    }
  }

  /// Reads a descriptor to EOF, in chunks, calling `body` with each chunk.
  static func pump(_ fd: Int32, _ body: ([UInt8]) -> Void) {
    var chunk = [UInt8](repeating: 0, count: 32 << 10)
    while true {
      let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { return }
      body(Array(chunk[0..<n]))
    }
  }

  static func drain(_ fd: Int32) -> String {
    var bytes: [UInt8] = []
    pump(fd) { bytes += $0 }
    return String(decoding: bytes, as: UTF8.self)
  }
}

/// An exec failure, with the runtime's explanation.
struct ExecError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
