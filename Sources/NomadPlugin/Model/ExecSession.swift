import Foundation

/// What the client of an exec session sends after the setup, in order.
public enum ExecInput: Sendable, Equatable {
  /// Bytes for the command's stdin.
  case stdin([UInt8])
  /// The client closed stdin.
  case stdinClosed
  /// The client's terminal changed size.
  case resize(width: Int, height: Int)
}

/// One streaming exec (`nomad alloc exec`): a command to run in a task, its input as it
/// arrives, and writers for its output. The driver returns the command's `ExitResult`; the
/// SDK then closes both output streams and reports the exit to Nomad.
public struct ExecSession: Sendable {
  /// The task to run the command in.
  public let taskID: String
  public let command: [String]
  /// Whether the client wants a terminal.
  public let tty: Bool
  /// The client's stdin, stdin close and terminal sizes, in the order sent. Ends when the
  /// client stops sending (or the session ends).
  public let input: AsyncStream<ExecInput>
  /// The command's stdout (with a terminal: the terminal's output).
  public let stdout: ExecOutput
  public let stderr: ExecOutput

  public init(
    taskID: String, command: [String], tty: Bool, input: AsyncStream<ExecInput>, stdout: ExecOutput,
    stderr: ExecOutput
  ) {
    self.taskID = taskID
    self.command = command
    self.tty = tty
    self.input = input
    self.stdout = stdout
    self.stderr = stderr
  }

  /// Stops both writers: writes waiting for a slow client return false, as do later ones.
  /// Call it when the command's output is no longer wanted (it exited and its grace passed).
  public func stopOutput() {
    stdout.stop()
    stderr.stop()
  }
}

/// Output of an exec command towards the client, with flow control: a write blocks the
/// calling thread while the client is behind, so call it from a thread that may block
/// (e.g. the one reading the command's pipe), never from an actor or the cooperative pool.
public struct ExecOutput: Sendable {
  private let deliver: @Sendable ([UInt8]) -> Bool
  private let onStop: @Sendable () -> Void

  /// An output that hands each chunk to `deliver` (false: the session stopped) and calls
  /// `stop` when stopped.
  public init(deliver: @escaping @Sendable ([UInt8]) -> Bool, stop: @escaping @Sendable () -> Void) {
    self.deliver = deliver
    self.onStop = stop
  }

  /// Sends `bytes`, waiting while the client is behind. False once the session stopped: the
  /// bytes were dropped and later writes will be too.
  @discardableResult
  public func write(_ bytes: [UInt8]) -> Bool { deliver(bytes) }

  /// Stops the output: blocked and later writes return false.
  public func stop() { onStop() }
}
