import Foundation
import NomadProto
import Synchronization

typealias WireExecRequest = Hashicorp_Nomad_Plugins_Drivers_Proto_ExecTaskStreamingRequest
typealias WireExecResponse = Hashicorp_Nomad_Plugins_Drivers_Proto_ExecTaskStreamingResponse

/// The `ExecTaskStreaming` protocol (as Nomad's `plugins/drivers/execstreaming.go`), around a
/// driver that only sees an `ExecSession`:
/// - the first request carries the setup (task, command, tty); later ones carry stdin, stdin
///   close and terminal sizes, handed to the driver in order;
/// - stdout and stderr chunks flow out, at most `credits` of them waiting for a slow client
///   (then the writers, and so the command, wait);
/// - when the driver returns an exit: a stdout close frame, a stderr close frame, then the
///   exit frame; when it throws, no more frames and the error ends the call;
/// - when the client goes away or a send fails, the driver's task is cancelled.
enum ExecStreaming {
  /// How many output chunks may wait for the client.
  static let credits = 64

  static func serve<Requests: AsyncSequence & Sendable>(
    requests: Requests, send: @Sendable (WireExecResponse) async throws -> Void,
    run: @escaping @Sendable (ExecSession) async throws -> ExitResult
  ) async throws where Requests.Element == WireExecRequest {
    let (input, inputSink) = AsyncStream.makeStream(of: ExecInput.self)
    let setupGate = SetupGate()
    try await withThrowingTaskGroup(of: Void.self) { group in
      // Reads the client's messages: the setup first, then stdin and terminal sizes.
      group.addTask {
        defer {
          inputSink.finish()
          setupGate.ended()
        }
        var first = true
        for try await message in requests {
          if first {
            first = false
            guard message.hasSetup else {
              throw DriverError.invalidArgument("exec: the first message must carry the setup")
            }
            setupGate.open(message.setup)
            continue
          }
          for item in inputs(of: message) { inputSink.yield(item) }
        }
      }
      guard let setup = await setupGate.wait() else {
        // The client sent nothing usable; a reader error (bad first message) surfaces here.
        try await group.next()
        throw DriverError.invalidArgument("exec: the stream ended before the setup message")
      }

      let (outputs, sink) = AsyncStream.makeStream(of: WireExecResponse.self)
      let credits = Credits(Self.credits)
      func output(stderr: Bool) -> ExecOutput {
        ExecOutput(
          deliver: { chunk in
            guard credits.acquire() else { return false }
            sink.yield(outputFrame(chunk, stderr: stderr))
            return true
          }, stop: { credits.stop() })
      }
      let session = ExecSession(
        taskID: setup.taskID, command: setup.command, tty: setup.tty, input: input,
        stdout: output(stderr: false), stderr: output(stderr: true))
      let driver = Task {
        defer { sink.finish() }
        let result: ExitResult
        do {
          result = try await run(session)
        } catch {
          credits.stop()
          throw error
        }
        credits.stop()
        for frame in closingFrames(result) { sink.yield(frame) }
        return result
      }
      var sendError: (any Error)?
      await withTaskCancellationHandler {
        for await response in outputs {
          if sendError == nil {
            do {
              try await send(response)
            } catch {
              sendError = error
              driver.cancel()
            }
          }
          credits.give()
          if Task.isCancelled { driver.cancel() }
        }
      } onCancel: {
        driver.cancel()
      }
      let outcome = await driver.result
      group.cancelAll()
      if let sendError { throw sendError }
      _ = try outcome.get()
    }
  }

  /// The session inputs one request carries, in the order they apply: size, data, close.
  static func inputs(of message: WireExecRequest) -> [ExecInput] {
    var inputs: [ExecInput] = []
    if message.hasTtySize {
      inputs.append(.resize(width: Int(message.ttySize.width), height: Int(message.ttySize.height)))
    }
    if message.hasStdin {
      if !message.stdin.data.isEmpty { inputs.append(.stdin([UInt8](message.stdin.data))) }
      if message.stdin.close { inputs.append(.stdinClosed) }
    }
    return inputs
  }

  /// A chunk of the command's stdout or stderr.
  static func outputFrame(_ chunk: [UInt8], stderr: Bool) -> WireExecResponse {
    var io = Hashicorp_Nomad_Plugins_Drivers_Proto_ExecTaskStreamingIOOperation()
    io.data = Data(chunk)
    var response = WireExecResponse()
    if stderr { response.stderr = io } else { response.stdout = io }
    return response
  }

  /// The frames that end a session whose command exited: stdout close, stderr close, exit.
  static func closingFrames(_ result: ExitResult) -> [WireExecResponse] {
    var closeOut = WireExecResponse()
    closeOut.stdout.close = true
    var closeErr = WireExecResponse()
    closeErr.stderr.close = true
    var done = WireExecResponse()
    done.exited = true
    var exit = Hashicorp_Nomad_Plugins_Drivers_Proto_ExitResult()
    exit.exitCode = result.exitCode
    exit.signal = result.signal
    done.result = exit
    return [closeOut, closeErr, done]
  }
}

/// Hands the setup message from the request reader to the session.
private final class SetupGate: Sendable {
  private struct State {
    var setup: WireExecRequest.Setup?
    var ended = false
    var waiter: CheckedContinuation<WireExecRequest.Setup?, Never>?
  }
  private let state = Mutex(State())

  func open(_ setup: WireExecRequest.Setup) {
    let waiter = state.withLock { state in
      state.setup = setup
      defer { state.waiter = nil }
      return state.waiter
    }
    waiter?.resume(returning: setup)
  }

  func ended() {
    let waiter = state.withLock { state in
      state.ended = true
      defer { state.waiter = nil }
      return state.waiter
    }
    waiter?.resume(returning: nil)
  }

  func wait() async -> WireExecRequest.Setup? {
    await withCheckedContinuation { continuation in
      let ready = state.withLock { state -> (Bool, WireExecRequest.Setup?) in
        if state.setup != nil || state.ended { return (true, state.setup) }
        state.waiter = continuation
        return (false, nil)
      }
      if ready.0 { continuation.resume(returning: ready.1) }
    }
  }
}
