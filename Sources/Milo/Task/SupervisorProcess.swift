import Foundation
import MiloSupervisor
import MiloSys

/// The plugin's side of one task supervisor: starting it, signalling it and waiting for it.
public struct SupervisorProcess: Sendable {
  public var pid: Int32
  public var startTicks: UInt64
  /// A pidfd for the supervisor (nil when none could be opened); owned by this value's task
  /// record.
  public var pidfd: PidFD?

  /// Starts `milo supervise` in its own session and waits for it to report the container
  /// running (`ok <pid>`) or failing (`error <message>`).
  public static func launch(executable: String, options: SupervisorOptions) async throws
    -> (SupervisorProcess, containerPid: Int32)
  {
    let ready = try Posix.pipe()
    let paths = TaskPaths(
      taskStateDir: options.stateDir, runtimeRoot: options.runtimeRoot, containerID: options.containerID)
    let logFD = open(paths.supervisorLog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
    defer {
      if logFD >= 0 { close(logFD) }
    }
    let pid: pid_t
    do {
      pid = try Spawn.start(
        [executable, "supervise"] + options.arguments, environment: supervisorEnvironment(),
        stdio: .init(stdin: -1, stdout: ready.write, stderr: logFD), newSession: true)
    } catch {
      close(ready.read)
      close(ready.write)
      throw error
    }
    close(ready.write)
    let readFD = ready.read
    let line = await Blocking.run { readLine(fd: readFD) }
    close(readFD)
    let pidfd = try? PidFD(pid: pid)
    let process = SupervisorProcess(pid: pid, startTicks: startTicks(of: pid) ?? 0, pidfd: pidfd)
    let readiness = ReadinessLine.parse(line)
    if case .ready(let containerPid) = readiness {
      return (process, containerPid)
    }
    // The supervisor failed before the container ran: collect it and report why.
    await process.waitForExit()
    process.reap()
    process.release()
    let reason: String
    if case .failed(let message) = readiness {
      reason = message
    } else {
      reason = "the supervisor exited without reporting (see \(paths.supervisorLog))"
    }
    throw SupervisorLaunchError(reason: reason)
  }

  /// Reattaches to a running supervisor after a plugin restart; nil when it is gone (or the pid
  /// now belongs to another process).
  public static func attach(pid: Int32, startTicks expected: UInt64) -> SupervisorProcess? {
    guard pid > 0, let ticks = startTicks(of: pid), ticks == expected else { return nil }
    guard let pidfd = try? PidFD(pid: pid) else { return nil }
    // Re-check after opening the pidfd: the pid could have been reused in between.
    guard startTicks(of: pid) == expected else {
      pidfd.close()
      return nil
    }
    return SupervisorProcess(pid: pid, startTicks: expected, pidfd: pidfd)
  }

  /// Suspends until the supervisor exits.
  public func waitForExit() async {
    guard let pidfd else { return }
    await ExitMonitor.shared.wait(pidfd: pidfd.fd)
  }

  /// Whether the supervisor is still running.
  public var isRunning: Bool {
    guard let pidfd else { return false }
    return !pidfd.hasExited
  }

  /// Asks the supervisor to deliver `signal` to the application.
  @discardableResult
  public func forward(signal: Int32) -> Bool {
    pidfd?.queue(SupervisorContract.signalCarrier, value: signal) ?? false
  }

  /// Asks the supervisor to kill the container and finish (used by forced destroy).
  public func terminate() {
    pidfd?.send(SupervisorContract.terminateSignal)
  }

  /// Kills the supervisor itself (SIGKILL through its pidfd, so never a reused pid).
  public func kill() {
    pidfd?.send(SIGKILL)
  }

  /// Collects the exit status if the supervisor is our child (it is not after a plugin restart).
  public func reap() {
    var status: Int32 = 0
    _ = waitpid(pid, &status, WNOHANG)
  }

  /// Releases the pidfd.
  public func release() {
    pidfd?.close()
  }

  static func readLine(fd: Int32) -> String {
    var bytes: [UInt8] = []
    var byte: UInt8 = 0
    while bytes.count < 64 << 10 {
      let n = read(fd, &byte, 1)
      if n < 0 && errno == EINTR { continue }
      if n <= 0 || byte == 0x0A { break }
      bytes.append(byte)
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Field 22 of /proc/<pid>/stat.
  static func startTicks(of pid: Int32) -> UInt64? {
    guard let text = Posix.readText("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else {
      return nil
    }
    let fields = text[text.index(after: close)...].split(separator: " ")
    // After ")" the fields start at field 3 (state); starttime is field 22.
    guard fields.count > 19 else { return nil }
    return UInt64(fields[19])
  }

  /// The supervisor runs with a minimal, predictable environment.
  static func supervisorEnvironment() -> [String] {
    let path = Environment.value("PATH") ?? Environment.defaultSearchPath
    return ["PATH=\(path)", "LANG=C.UTF-8"]
  }
}

/// The supervisor could not start the container.
public struct SupervisorLaunchError: Error, CustomStringConvertible, Sendable {
  public var reason: String
  public var description: String { reason }
}
