import Foundation
import MiloSupervisor
import MiloSys
import NomadPlugin
import Synchronization

extension MiloDriver {
  /// The exec user: the task's user, never root.
  func execUser(_ task: MiloTask) throws -> String {
    let name = task.config.user.isEmpty ? currentConfig.defaultUser : task.config.user
    let user = try TaskUser.resolve(name)
    return "\(user.uid):\(user.gid)"
  }

  func runningTask(_ id: String) async throws -> MiloTask {
    let task = try await task(id)
    guard await task.isRunning else {
      throw DriverError(.failedPrecondition, "task \(id) is not running; exec needs a running task")
    }
    return task
  }

  /// Starts an exec process, turning runtime failures into errors a person can act on.
  func startExec(_ task: MiloTask, command: [String], tty: Bool, stdin: Bool) async throws -> ExecProcess {
    guard !command.isEmpty else { throw DriverError.invalidArgument("exec: the command is empty") }
    do {
      return try await runtime.exec(task.state, user: try execUser(task), command: command, tty: tty, stdin: stdin)
    } catch let error as DriverError {
      throw error
    } catch {
      throw Self.execFailure(task, error)
    }
  }

  static func execFailure(_ task: MiloTask, _ error: any Error) -> DriverError {
    DriverError(.failedPrecondition, "exec in task \(task.config.name) (\(task.id)) failed: \(error)")
  }

  /// How long output may still arrive after the command exited (from processes it left behind
  /// that hold its stdout, or a terminal being torn down) before the session ends.
  static let execOutputGrace: Duration = .milliseconds(250)

  /// `ExecTask` (script checks, templates): runs `command` to its end or `timeout`; at most
  /// 4 MiB of each stream is kept. A timeout kills the command and fails with DeadlineExceeded.
  public func execTask(id: String, command: [String], timeout: Duration) async throws -> (
    stdout: [UInt8], stderr: [UInt8], result: ExitResult
  ) {
    let cancelled = CancellationFlag()
    return try await withTaskCancellationHandler {
      try await execTask(id: id, command: command, timeout: timeout, cancelled: cancelled)
    } onCancel: {
      cancelled.set()
    }
  }

  private func execTask(id: String, command: [String], timeout: Duration, cancelled: CancellationFlag) async throws -> (
    stdout: [UInt8], stderr: [UInt8], result: ExitResult
  ) {
    guard !command.isEmpty else { throw DriverError.invalidArgument("exec: the command is empty") }
    let task = try await runningTask(id)
    let process = try await startExec(task, command: command, tty: false, stdin: false)
    cancelled.onCancel { process.kill() }
    let limit = 4 << 20
    async let out = Blocking.run { () -> [UInt8] in
      var bytes: [UInt8] = []
      process.pump(process.stdoutFD) { if bytes.count < limit { bytes += $0.prefix(limit - bytes.count) } }
      return bytes
    }
    async let err = Blocking.run { () -> [UInt8] in
      var bytes: [UInt8] = []
      process.pump(process.stderrFD) { if bytes.count < limit { bytes += $0.prefix(limit - bytes.count) } }
      return bytes
    }
    let timedOut = Atomic<Bool>(false)
    let timer = Task {
      try await Task.sleep(for: timeout)
      timedOut.store(true, ordering: .releasing)
      process.kill()
    }
    let outcome: Result<ExecOutcome, any Error> = await withTaskCancellationHandler {
      do { return .success(try await process.wait()) } catch { return .failure(error) }
    } onCancel: {
      process.kill()
    }
    timer.cancel()
    let grace = Task {
      try await Task.sleep(for: Self.execOutputGrace)
      process.finishIO()
    }
    let (stdout, stderr) = await (out, err)
    grace.cancel()
    process.finishIO()
    process.release()
    if timedOut.load(ordering: .acquiring) {
      throw DriverError(
        .deadlineExceeded,
        "exec in task \(task.config.name) timed out after \(Self.seconds(timeout)): the command was killed")
    }
    var result = ExitResult()
    switch outcome {
    case .success(let exit):
      result.exitCode = exit.exitCode
      result.signal = exit.signal
    case .failure(let error):
      throw Self.execFailure(task, error)
    }
    return (stdout, stderr, result)
  }

  static func seconds(_ duration: Duration) -> String {
    let (seconds, attos) = duration.components
    let millis = attos / 1_000_000_000_000_000
    return millis == 0 ? "\(seconds)s" : String(format: "%.3gs", Double(seconds) + Double(millis) / 1000)
  }

  /// `ExecTaskStreaming` (`nomad alloc exec`): runs the session's command with its input as it
  /// arrives and its output to the session's writers, and returns its exit. When the caller
  /// goes away the command is killed; nothing is left behind.
  public func execTaskStreaming(_ session: ExecSession) async throws -> ExitResult {
    let cancelled = CancellationFlag()
    return try await withTaskCancellationHandler {
      try await execTaskStreaming(session, cancelled: cancelled)
    } onCancel: {
      cancelled.set()
    }
  }

  private func execTaskStreaming(_ session: ExecSession, cancelled: CancellationFlag) async throws -> ExitResult {
    let task = try await runningTask(session.taskID)
    let process = try await startExec(task, command: session.command, tty: session.tty, stdin: true)
    cancelled.onCancel { process.kill() }
    // Input that arrived before the process started waits in the session, in order.
    let input = Task {
      for await item in session.input {
        switch item {
        case .resize(let width, let height): process.resize(rows: height, cols: width)
        case .stdin(let bytes): process.writeInput(bytes)
        case .stdinClosed: process.closeInput()
        }
      }
    }
    // The pumps block on the session's flow control while the client is behind.
    let pumps = process.outputs.map { output in
      let writer = output.stderr ? session.stderr : session.stdout
      return Task.detached {
        await Blocking.run { process.pump(output.fd) { chunk in writer.write(chunk) } }
      }
    }
    let lifecycle = Task.detached { () -> Result<ExecOutcome, any Error> in
      let outcome: Result<ExecOutcome, any Error>
      do { outcome = .success(try await process.wait()) } catch { outcome = .failure(error) }
      // Output may trail the exit briefly; then stop whatever still holds the streams open.
      let grace = Task {
        try await Task.sleep(for: Self.execOutputGrace)
        process.finishIO()
        session.stopOutput()
      }
      for pump in pumps { await pump.value }
      grace.cancel()
      process.finishIO()
      session.stopOutput()
      await process.waitForInputWriter()
      process.release()
      return outcome
    }
    let outcome = await lifecycle.value
    input.cancel()
    switch outcome {
    case .success(let exit): return ExitResult(exitCode: exit.exitCode, signal: exit.signal)
    case .failure(let error): throw Self.execFailure(task, error)
    }
  }
}
