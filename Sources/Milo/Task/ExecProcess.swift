import CMiloSys
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
  private let pidfd: Int32
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
  private let state = Mutex(State())

  private struct State {
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
    self.pidfd = milo_pidfd_open(pid)
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
    var listenFD: Int32 = -1
    if tty {
      let (path, privateDir) = try consoleSocketPath(state: state, token: String(token))
      listenFD = milo_console_socket_listen(path)
      guard listenFD >= 0 else {
        if let privateDir { rmdir(privateDir) }
        throw SystemError("console socket \(path)", errno: -listenFD)
      }
      socketPath = path
      socketDir = privateDir
      execOptions.consoleSocket = path
    }
    let args = state.runtime.logging(to: logFile).execArguments(
      containerID: state.containerID, command: command, options: execOptions)

    var outPipe: [Int32] = [-1, -1]
    var errPipe: [Int32] = [-1, -1]
    var inPipe: [Int32] = [-1, -1]
    var stopPipe: [Int32] = [-1, -1]
    func closeAll(_ fds: [Int32]) { fds.filter { $0 >= 0 }.forEach { close($0) } }
    func removeFiles() {
      if let socketPath { unlink(socketPath) }
      if let socketDir { rmdir(socketDir) }
      unlink(pidFile)
      unlink(logFile)
    }
    guard milo_pipe2(&outPipe, O_CLOEXEC) == 0, milo_pipe2(&errPipe, O_CLOEXEC) == 0,
      milo_pipe2(&inPipe, O_CLOEXEC) == 0, milo_pipe2(&stopPipe, O_CLOEXEC) == 0
    else {
      closeAll(outPipe + errPipe + inPipe + stopPipe + [listenFD])
      removeFiles()
      throw SystemError("pipe2")
    }
    let pid: Int32
    do {
      // The runtime gets only PATH: the command's environment is the container's (config.json).
      pid = try Spawn.start(
        args, environment: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        stdio: .init(stdin: stdin && !tty ? inPipe[0] : -1, stdout: outPipe[1], stderr: errPipe[1]))
    } catch {
      closeAll(outPipe + errPipe + inPipe + stopPipe + [listenFD])
      removeFiles()
      throw error
    }
    close(outPipe[1])
    close(errPipe[1])
    close(inPipe[0])
    var terminal: Int32 = -1
    if let socketPath {
      let listen = listenFD
      let runtimeFD = milo_pidfd_open(pid)
      // Returns early (-ECHILD) if the runtime exits without connecting.
      terminal = await Blocking.run { milo_console_socket_receive(listen, 10_000, runtimeFD) }
      if runtimeFD >= 0 { close(runtimeFD) }
      close(listenFD)
      unlink(socketPath)
      if let socketDir { rmdir(socketDir) }
      if terminal < 0 {
        Glibc.kill(pid, SIGKILL)
        _ = Spawn.waitFor(pid)
        let message = Self.runtimeErrors(logFile).joined(separator: "; ")
        let output = Self.drain(errPipe[0])
        closeAll([outPipe[0], errPipe[0], inPipe[1]] + stopPipe)
        removeFiles()
        throw ExecError(
          !message.isEmpty
            ? message
            : !output.isEmpty
              ? output.trimmingCharacters(in: .whitespacesAndNewlines)
              : "the runtime did not open a terminal (\(SystemError("console socket", errno: -terminal)))")
      }
      Posix.setNonBlocking(terminal)
    }
    if !stdin || tty {
      close(inPipe[1])
      inPipe[1] = -1
    } else {
      Posix.setNonBlocking(inPipe[1])
    }
    return ExecProcess(
      pid: pid, stdin: inPipe[1], stdout: outPipe[0], stderr: errPipe[0], terminal: terminal, pidFile: pidFile,
      logFile: logFile, stop: (stopPipe[0], stopPipe[1]))
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
        _ = milo_set_window_size(terminalFD, UInt16(clamping: rows), UInt16(clamping: cols))
      }
    }
  }

  /// Kills the command (inside the container), then the runtime process if it has not exited
  /// 2 s later. Returns at once. Killing the command first lets the runtime reap it and report
  /// its status (an orphan would be reaped by the container's `milo init` instead, unseen).
  func kill() {
    let first = state.withLock { state -> Bool in
      defer { state.killing = true }
      return !state.exited && !state.killing
    }
    guard first else { return }
    Blocking.detach(name: "exec-kill") { [self] in
      let deadline = Posix.monotonicNanos() + 2_000_000_000
      var commandKilled = false
      while Posix.monotonicNanos() < deadline {
        if state.withLock({ $0.exited }) { return }
        if !commandKilled { commandKilled = killCommand() }
        usleep(10_000)
      }
      state.withLock { state in
        if !state.exited && !state.released && pidfd >= 0 { _ = milo_pidfd_send_signal(pidfd, SIGKILL) }
      }
    }
  }

  /// SIGKILLs the command and everything it started, once its pid is known; only while it is
  /// still the runtime's child. The tree is stopped first so nothing forks away meanwhile.
  /// (What it leaves behind is adopted and reaped by the container's `milo init`.)
  private func killCommand() -> Bool {
    guard let text = Posix.readText(pidFile),
      let inner = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), inner > 0
    else { return false }
    let fd = milo_pidfd_open(inner)
    guard fd >= 0 else { return true }  // already gone
    defer { close(fd) }
    guard Self.parentPid(of: inner) == pid else { return true }
    _ = milo_pidfd_send_signal(fd, SIGSTOP)
    var tree: Set<Int32> = []
    for _ in 0..<5 {
      let found = Set(Self.descendants(of: inner)).subtracting(tree)
      if found.isEmpty { break }
      for process in found { Glibc.kill(process, SIGSTOP) }
      tree.formUnion(found)
    }
    _ = milo_pidfd_send_signal(fd, SIGKILL)
    for process in tree { Glibc.kill(process, SIGKILL) }
    return true
  }

  /// The pids below `root` in the process tree (from the `PPid` of every process).
  static func descendants(of root: Int32) -> [Int32] {
    var children: [Int32: [Int32]] = [:]
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
      guard let process = Int32(entry), let parent = parentPid(of: process) else { continue }
      children[parent, default: []].append(process)
    }
    var result: [Int32] = []
    var queue = children[root] ?? []
    while let next = queue.popLast() {
      result.append(next)
      queue += children[next] ?? []
    }
    return result
  }

  static func parentPid(of pid: Int32) -> Int32? {
    guard let text = Posix.readText("/proc/\(pid)/status") else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("PPid:") {
      return Int32(line.dropFirst(5).trimmingCharacters(in: .whitespaces))
    }
    return nil
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
    state.withLock { state in
      guard !state.stopped, !state.released else { return }
      state.stopped = true
      _ = Posix.writeAll(stopWrite, [1])
    }
  }

  /// Waits until the input writer's thread has finished with its descriptor.
  func waitForInputWriter() async {
    guard let input else { return }
    await Blocking.run { input.join() }
  }

  /// Releases every descriptor. Call once, after the pumps returned and the input writer ended.
  func release() {
    let first = state.withLock { state -> Bool in
      defer { state.released = true }
      return !state.released
    }
    guard first else { return }
    [stdoutFD, stderrFD, terminalFD, stopRead, stopWrite, pidfd].filter { $0 >= 0 }.forEach { close($0) }
  }

  /// Reads `fd` until EOF (or EIO: a pty master whose terminal is gone) or until `finishIO`,
  /// calling `body` with each chunk. Blocks: run it on its own thread.
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

/// Writes queued input to a pipe or pty master on its own thread, so a command that does not
/// read its input never blocks the caller.
final class InputWriter: @unchecked Sendable {
  private let condition = NSCondition()
  // Guarded by `condition`.
  private var queue: [[UInt8]] = []
  private var closeRequested = false
  private var done = false
  private let fd: Int32
  private let ownsFD: Bool
  private let terminal: Bool
  private let stopFD: Int32

  init(fd: Int32, ownsFD: Bool, terminal: Bool, stopFD: Int32) {
    self.fd = fd
    self.ownsFD = ownsFD
    self.terminal = terminal
    self.stopFD = stopFD
    Blocking.detach(name: "exec-input") { [self] in run() }
  }

  func write(_ bytes: [UInt8]) {
    guard !bytes.isEmpty else { return }
    condition.lock()
    if !closeRequested { queue.append(bytes) }
    condition.signal()
    condition.unlock()
  }

  func close() {
    condition.lock()
    closeRequested = true
    condition.signal()
    condition.unlock()
  }

  /// Blocks until the writer thread ended.
  func join() {
    condition.lock()
    while !done { condition.wait() }
    condition.unlock()
  }

  private func run() {
    defer {
      if ownsFD { Glibc.close(fd) }
      condition.lock()
      done = true
      condition.broadcast()
      condition.unlock()
    }
    while true {
      condition.lock()
      while queue.isEmpty && !closeRequested && !stopped() {
        condition.wait(until: Date(timeIntervalSinceNow: 0.05))
      }
      let next = queue.isEmpty ? nil : queue.removeFirst()
      let closing = queue.isEmpty && closeRequested
      condition.unlock()
      if stopped() { return }
      if let next, !writeAll(next) { return }
      if closing && next == nil {
        // EOF: Ctrl-D on a terminal (in canonical mode), closing the pipe otherwise.
        if terminal { _ = writeAll([0x04]) }
        return
      }
    }
  }

  private func stopped() -> Bool {
    var entry = pollfd(fd: stopFD, events: Int16(POLLIN), revents: 0)
    return poll(&entry, 1, 0) > 0
  }

  /// Writes to the non-blocking descriptor, waiting for room; false when it is gone or stopped.
  private func writeAll(_ bytes: [UInt8]) -> Bool {
    var offset = 0
    while offset < bytes.count {
      let n = bytes.withUnsafeBytes { raw -> Int in
        guard let base = raw.baseAddress else { return 0 }
        return Glibc.write(fd, base + offset, raw.count - offset)
      }
      if n > 0 {
        offset += n
        continue
      }
      if n < 0 && errno == EINTR { continue }
      guard n < 0 && errno == EAGAIN else { return false }
      var fds = [
        pollfd(fd: fd, events: Int16(POLLOUT), revents: 0), pollfd(fd: stopFD, events: Int16(POLLIN), revents: 0),
      ]
      if poll(&fds, 2, -1) < 0 && errno != EINTR { return false }
      if fds[1].revents != 0 { return false }
      if fds[0].revents & Int16(POLLERR | POLLHUP) != 0 { return false }
    }
    return true
  }
}

/// An exec failure, with the runtime's explanation.
struct ExecError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
