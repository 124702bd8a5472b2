import Foundation
import GRPCCore
import NomadProto
import Synchronization
import Testing

@testable import NomadPlugin

/// The exec streaming protocol, against drivers that only see an `ExecSession`.
@Suite struct ExecStreamingTests {
  /// Serves one session whose driver is `run`; returns the frames sent, or the error.
  static func serve(
    _ requests: [ExecRequest], send: @escaping @Sendable (ExecResponse) async throws -> Void = { _ in },
    run: @escaping @Sendable (ExecSession) async throws -> ExitResult
  ) async throws -> [Frame] {
    let frames = Mutex<[Frame]>([])
    try await ExecStreaming.serve(
      requests: ServiceCall.requests(requests),
      send: { response in
        try await send(response)
        frames.withLock { $0.append(Frame(response)) }
      }, run: run)
    return frames.withLock { $0 }
  }

  @Test func outputThenBothClosesThenTheExit() async throws {
    let frames = try await Self.serve([.setup(task: "t", command: ["x"])]) { session in
      #expect(session.taskID == "t")
      #expect(session.command == ["x"])
      await SleepDriver.blocking {
        session.stdout.write(Array("out".utf8))
        session.stderr.write(Array("err".utf8))
      }
      return ExitResult(exitCode: 7, signal: 0)
    }
    #expect(frames == [.stdout("out"), .stderr("err"), .stdoutClose, .stderrClose, .exit(7)])
  }

  @Test func aFailedDriverSendsNoCloseFrames() async throws {
    do {
      _ = try await Self.serve([.setup(task: "t", command: ["x"])]) { session in
        await SleepDriver.blocking { session.stdout.write(Array("partial".utf8)) }
        throw DriverError(.failedPrecondition, "exec failed")
      }
      Issue.record("the driver's error ends the call")
    } catch let error as DriverError {
      #expect(error.message == "exec failed")
    }
  }

  @Test func theFirstMessageMustBeTheSetup() async throws {
    for (requests, message) in [
      ([ExecRequest.stdin("x")], "exec: the first message must carry the setup"),
      ([], "exec: the stream ended before the setup message"),
    ] {
      do {
        _ = try await Self.serve(requests) { _ in
          Issue.record("no session starts")
          return ExitResult()
        }
        Issue.record("the call fails")
      } catch let error as DriverError {
        #expect(error.code == .invalidArgument)
        #expect(error.message == message)
      }
    }
  }

  @Test func inputArrivesInOrderResizeDataClose() async throws {
    var message = ExecRequest.stdin("abc", close: true)
    message.ttySize.width = 80
    message.ttySize.height = 24
    #expect(
      ExecStreaming.inputs(of: message) == [.resize(width: 80, height: 24), .stdin(Array("abc".utf8)), .stdinClosed])
    let seen = Mutex<[ExecInput]>([])
    _ = try await Self.serve([.setup(task: "t", command: ["x"], tty: true), .stdin("a"), message]) { session in
      #expect(session.tty)
      for await input in session.input { seen.withLock { $0.append(input) } }
      return ExitResult()
    }
    #expect(
      seen.withLock { $0 } == [
        .stdin(Array("a".utf8)), .resize(width: 80, height: 24), .stdin(Array("abc".utf8)), .stdinClosed,
      ])
  }

  /// A slow client: at most `credits` chunks wait for it; then the writer blocks until it catches up.
  @Test func writersWaitForCredits() async throws {
    let release = Mutex<Bool>(false)
    final class Counter: Sendable { let value = Atomic<Int>(0) }
    let written = Counter()
    let frames = try await Self.serve(
      [.setup(task: "t", command: ["x"])],
      send: { _ in
        while !release.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
      }
    ) { session in
      async let writer: Void = SleepDriver.blocking {
        for _ in 0..<100 {
          session.stdout.write([1])
          written.value.add(1, ordering: .relaxed)
        }
      }
      try await Task.sleep(for: .milliseconds(300))
      let waiting = written.value.load(ordering: .relaxed)
      #expect(waiting == ExecStreaming.credits)
      release.withLock { $0 = true }
      await writer
      return ExitResult()
    }
    #expect(frames.count == 100 + 3)
    #expect(frames.suffix(3) == [.stdoutClose, .stderrClose, .exit(0)])
  }

  @Test func stoppedWritersDropOutput() async throws {
    let frames = try await Self.serve([.setup(task: "t", command: ["x"])]) { session in
      session.stopOutput()
      let delivered = await SleepDriver.blocking { session.stdout.write([1]) }
      #expect(!delivered)
      return ExitResult(exitCode: 1)
    }
    #expect(frames == [.stdoutClose, .stderrClose, .exit(1)])
  }

  @Test func aFailedSendCancelsTheDriver() async throws {
    struct Gone: Error {}
    let cancelled = Atomic<Bool>(false)
    do {
      _ = try await Self.serve([.setup(task: "t", command: ["x"])], send: { _ in throw Gone() }) { session in
        await SleepDriver.blocking { session.stdout.write([1]) }
        while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(5)) }
        cancelled.store(true, ordering: .relaxed)
        return ExitResult()
      }
      Issue.record("the send error ends the call")
    } catch is Gone {
      let wasCancelled = cancelled.load(ordering: .relaxed)
      #expect(wasCancelled)
    }
  }
}
