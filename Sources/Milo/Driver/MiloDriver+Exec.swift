import Foundation
import GRPCCore
import MiloSupervisor
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
      return try await ExecProcess.start(
        state: task.state, user: try execUser(task), command: command, tty: tty, stdin: stdin)
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
    stdout: [UInt8], stderr: [UInt8], result: Proto.ExitResult
  ) {
    let cancelled = CancellationFlag()
    return try await withTaskCancellationHandler {
      try await execTask(id: id, command: command, timeout: timeout, cancelled: cancelled)
    } onCancel: {
      cancelled.set()
    }
  }

  private func execTask(id: String, command: [String], timeout: Duration, cancelled: CancellationFlag) async throws -> (
    stdout: [UInt8], stderr: [UInt8], result: Proto.ExitResult
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
    var result = Proto.ExitResult()
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

  /// `ExecTaskStreaming` (`nomad alloc exec`): the first message carries the setup (task,
  /// command, tty); then stdin, stdin close and terminal sizes flow in while stdout and stderr
  /// flow out, and the last message carries the exit result. When the caller goes away the
  /// command is killed; nothing is left behind.
  public func execTaskStreaming(
    requests: RPCAsyncSequence<Proto.ExecStreamingRequest, any Error>,
    send: @Sendable (Proto.ExecStreamingResponse) async throws -> Void
  ) async throws {
    let cancelled = CancellationFlag()
    try await withTaskCancellationHandler {
      try await execTaskStreaming(requests: requests, cancelled: cancelled, send: send)
    } onCancel: {
      cancelled.set()
    }
  }

  private func execTaskStreaming(
    requests: RPCAsyncSequence<Proto.ExecStreamingRequest, any Error>, cancelled: CancellationFlag,
    send: @Sendable (Proto.ExecStreamingResponse) async throws -> Void
  ) async throws {
    let session = ExecSession()
    try await withThrowingTaskGroup(of: Void.self) { group in
      // Reads the client's messages: the setup first, then stdin and terminal sizes.
      group.addTask {
        defer { session.inputEnded() }
        var first = true
        for try await message in requests {
          if first {
            first = false
            guard message.hasSetup else {
              throw DriverError.invalidArgument("exec: the first message must carry the setup")
            }
            session.setup(message.setup)
            continue
          }
          session.handle(message)
        }
      }
      guard let setup = await session.waitForSetup() else {
        // The client sent nothing usable; a reader error (bad first message) surfaces here.
        try await group.next()
        throw DriverError.invalidArgument("exec: the stream ended before the setup message")
      }
      let task = try await runningTask(setup.taskID)
      let process = try await startExec(task, command: setup.command, tty: setup.tty, stdin: true)
      session.attach(process)
      cancelled.onCancel { process.kill() }

      let (outputs, sink) = AsyncStream.makeStream(of: Proto.ExecStreamingResponse.self)
      // At most this many chunks wait for a slow client; then the pumps (and the command) wait.
      let credits = Credits(64)
      let pumps = process.outputs.map { output in
        Task.detached {
          await Blocking.run {
            process.pump(output.fd) { chunk in
              guard credits.acquire() else { return }
              var io = Proto.ExecIO()
              io.data = Data(chunk)
              var response = Proto.ExecStreamingResponse()
              if output.stderr { response.stderr = io } else { response.stdout = io }
              sink.yield(response)
            }
          }
        }
      }
      let lifecycle = Task.detached { () -> Result<ExecOutcome, any Error> in
        let outcome: Result<ExecOutcome, any Error>
        do { outcome = .success(try await process.wait()) } catch { outcome = .failure(error) }
        // Output may trail the exit briefly; then stop whatever still holds the streams open.
        let grace = Task {
          try await Task.sleep(for: Self.execOutputGrace)
          process.finishIO()
          credits.stop()
        }
        for pump in pumps { await pump.value }
        grace.cancel()
        process.finishIO()
        credits.stop()
        await process.waitForInputWriter()
        process.release()
        if case .success(let exit) = outcome {
          var closeOut = Proto.ExecStreamingResponse()
          closeOut.stdout.close = true
          sink.yield(closeOut)
          var closeErr = Proto.ExecStreamingResponse()
          closeErr.stderr.close = true
          sink.yield(closeErr)
          var done = Proto.ExecStreamingResponse()
          done.exited = true
          var result = Proto.ExitResult()
          result.exitCode = exit.exitCode
          result.signal = exit.signal
          done.result = result
          sink.yield(done)
        }
        sink.finish()
        return outcome
      }
      var sendError: (any Error)?
      await withTaskCancellationHandler {
        for await response in outputs {
          if sendError == nil {
            do {
              try await send(response)
            } catch {
              sendError = error
              process.kill()
            }
          }
          credits.give()
          if Task.isCancelled { process.kill() }
        }
      } onCancel: {
        process.kill()
      }
      let outcome = await lifecycle.value
      group.cancelAll()
      if let sendError { throw sendError }
      if case .failure(let error) = outcome { throw Self.execFailure(task, error) }
    }
  }
}

/// A counting gate between output pumps and a (possibly slow) client.
final class Credits: @unchecked Sendable {
  private let condition = NSCondition()
  private var available: Int
  private var stopped = false

  init(_ count: Int) { available = count }

  /// Takes a credit, waiting for one; false once stopped.
  func acquire() -> Bool {
    condition.lock()
    defer { condition.unlock() }
    while available == 0 && !stopped { condition.wait() }
    if stopped { return false }
    available -= 1
    return true
  }

  func give() {
    condition.lock()
    available += 1
    condition.signal()
    condition.unlock()
  }

  func stop() {
    condition.lock()
    stopped = true
    condition.broadcast()
    condition.unlock()
  }
}

/// Shared state between the request reader and the exec process.
final class ExecSession: Sendable {
  private struct State {
    var setup: Proto.ExecStreamingRequest.Setup?
    var setupWaiter: CheckedContinuation<Proto.ExecStreamingRequest.Setup?, Never>?
    var ended = false
    var process: ExecProcess?
    var pending: [Proto.ExecStreamingRequest] = []
  }
  private let state = Mutex(State())

  func setup(_ setup: Proto.ExecStreamingRequest.Setup) {
    let waiter = state.withLock { state -> CheckedContinuation<Proto.ExecStreamingRequest.Setup?, Never>? in
      state.setup = setup
      defer { state.setupWaiter = nil }
      return state.setupWaiter
    }
    waiter?.resume(returning: setup)
  }

  func inputEnded() {
    let waiter = state.withLock { state -> CheckedContinuation<Proto.ExecStreamingRequest.Setup?, Never>? in
      state.ended = true
      defer { state.setupWaiter = nil }
      return state.setupWaiter
    }
    waiter?.resume(returning: nil)
  }

  func waitForSetup() async -> Proto.ExecStreamingRequest.Setup? {
    await withCheckedContinuation { continuation in
      let ready = state.withLock { state -> (Bool, Proto.ExecStreamingRequest.Setup?) in
        if state.setup != nil || state.ended { return (true, state.setup) }
        state.setupWaiter = continuation
        return (false, nil)
      }
      if ready.0 { continuation.resume(returning: ready.1) }
    }
  }

  /// Connects the process; messages that arrived before it started are applied now, in order.
  func attach(_ process: ExecProcess) {
    // Applied under the lock (applying never blocks), so no later message overtakes them.
    state.withLock { state in
      state.process = process
      state.pending.forEach { apply($0, to: process) }
      state.pending = []
    }
  }

  func handle(_ message: Proto.ExecStreamingRequest) {
    state.withLock { state in
      if let process = state.process {
        apply(message, to: process)
      } else {
        state.pending.append(message)
      }
    }
  }

  private func apply(_ message: Proto.ExecStreamingRequest, to process: ExecProcess) {
    if message.hasTtySize {
      process.resize(rows: Int(message.ttySize.height), cols: Int(message.ttySize.width))
    }
    if message.hasStdin {
      if !message.stdin.data.isEmpty { process.writeInput([UInt8](message.stdin.data)) }
      if message.stdin.close { process.closeInput() }
    }
  }
}
