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

  public func execTask(id: String, command: [String], timeout: Duration) async throws -> (
    stdout: [UInt8], stderr: [UInt8], result: Proto.ExitResult
  ) {
    guard !command.isEmpty else { throw DriverError.invalidArgument("exec: the command is empty") }
    let task = try await runningTask(id)
    let process = try await ExecProcess.start(
      state: task.state, user: try execUser(task), command: command, tty: false, stdin: false)
    defer { process.release() }
    let limit = 4 << 20
    async let out = Blocking.run { () -> [UInt8] in
      var bytes: [UInt8] = []
      ExecProcess.pump(process.stdoutFD) { if bytes.count < limit { bytes += $0 } }
      return bytes
    }
    async let err = Blocking.run { () -> [UInt8] in
      var bytes: [UInt8] = []
      ExecProcess.pump(process.stderrFD) { if bytes.count < limit { bytes += $0 } }
      return bytes
    }
    let timer = Task {
      try await Task.sleep(for: timeout)
      process.kill()
    }
    let code = await process.wait()
    timer.cancel()
    var result = Proto.ExitResult()
    result.exitCode = code
    if code > 128 { result.signal = code - 128 }
    return (await out, await err, result)
  }

  public func execTaskStreaming(
    requests: RPCAsyncSequence<Proto.ExecStreamingRequest, any Error>,
    send: @Sendable (Proto.ExecStreamingResponse) async throws -> Void
  ) async throws {
    let (outputs, sink) = AsyncStream.makeStream(of: Proto.ExecStreamingResponse.self)
    let session = ExecSession()
    try await withThrowingTaskGroup(of: Void.self) { group in
      // Reads the client's messages: the setup first, then stdin and terminal sizes.
      group.addTask {
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
        session.inputEnded()
      }
      guard let setup = await session.waitForSetup() else {
        group.cancelAll()
        return
      }
      guard !setup.command.isEmpty else { throw DriverError.invalidArgument("exec: the command is empty") }
      let task = try await runningTask(setup.taskID)
      let process = try await ExecProcess.start(
        state: task.state, user: try execUser(task), command: setup.command, tty: setup.tty, stdin: true)
      session.attach(process)
      defer { process.release() }

      func forward(_ fd: Int32, stderr: Bool) async {
        await Blocking.run {
          ExecProcess.pump(fd) { chunk in
            var io = Proto.ExecIO()
            io.data = Data(chunk)
            var response = Proto.ExecStreamingResponse()
            if stderr { response.stderr = io } else { response.stdout = io }
            sink.yield(response)
          }
        }
      }
      let pumps = Task {
        if process.terminalFD >= 0 {
          async let terminal: Void = forward(process.terminalFD, stderr: false)
          async let errors: Void = forward(process.stderrFD, stderr: true)
          _ = await (terminal, errors)
        } else {
          async let out: Void = forward(process.stdoutFD, stderr: false)
          async let err: Void = forward(process.stderrFD, stderr: true)
          _ = await (out, err)
        }
      }
      let exitTask = Task {
        let code = await process.wait()
        if process.terminalFD >= 0 {
          // The pty master sees EIO only once every slave fd is closed; give output a moment.
          try? await Task.sleep(for: .milliseconds(50))
          close(process.terminalFD)
        }
        await pumps.value
        var done = Proto.ExecStreamingResponse()
        done.exited = true
        var result = Proto.ExitResult()
        result.exitCode = code
        if code > 128 { result.signal = code - 128 }
        done.result = result
        sink.yield(done)
        sink.finish()
      }
      for await response in outputs {
        try await send(response)
      }
      await exitTask.value
      group.cancelAll()
    }
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

  /// Connects the process; messages that arrived before it started are applied now.
  func attach(_ process: ExecProcess) {
    let pending = state.withLock { state -> [Proto.ExecStreamingRequest] in
      state.process = process
      defer { state.pending = [] }
      return state.pending
    }
    pending.forEach { apply($0, to: process) }
  }

  func handle(_ message: Proto.ExecStreamingRequest) {
    let process = state.withLock { state -> ExecProcess? in
      if state.process == nil { state.pending.append(message) }
      return state.process
    }
    if let process { apply(message, to: process) }
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
