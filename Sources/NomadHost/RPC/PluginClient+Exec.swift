import GRPCCore
import NomadProto

/// Input for `PluginClient.execTaskStreaming`.
public enum ExecStreamInput: Sendable, Equatable {
  /// Bytes for the command's stdin.
  case stdin([UInt8])
  /// Closes the command's stdin.
  case closeStdin
  /// A terminal size change (tty sessions).
  case resize(width: Int32, height: Int32)
}

/// Output of `PluginClient.execTaskStreaming`.
public enum ExecStreamOutput: Sendable, Equatable {
  case stdout([UInt8])
  case stderr([UInt8])
  case stdoutClosed
  case stderrClosed
}

extension PluginClient {
  /// `Driver.ExecTaskStreaming` (what `nomad alloc exec` uses): sends the setup message, then
  /// forwards `input`; calls `output` for every stdout/stderr chunk and returns the exit result
  /// once the driver reports `exited`.
  public func execTaskStreaming(
    taskID: String, command: [String], tty: Bool,
    input: AsyncStream<ExecStreamInput>,
    output: @escaping @Sendable (ExecStreamOutput) async -> Void
  ) async throws -> ExitResultProto {
    typealias Request = Hashicorp_Nomad_Plugins_Drivers_Proto_ExecTaskStreamingRequest
    var setup = Request()
    setup.setup.taskID = taskID
    setup.setup.command = command
    setup.setup.tty = tty
    let first = setup
    let request = StreamingClientRequest<Request>(producer: { writer in
      try await writer.write(first)
      for await item in input {
        var message = Request()
        switch item {
        case .stdin(let bytes):
          message.stdin.data = .init(bytes)
        case .closeStdin:
          message.stdin.close = true
        case .resize(let width, let height):
          message.ttySize.width = width
          message.ttySize.height = height
        }
        try await writer.write(message)
      }
    })
    let driver = self.driver
    return try await unary {
      try await driver.execTaskStreaming(request: request, options: Self.callOptions) { response in
        for try await message in response.messages {
          if message.hasStdout {
            if !message.stdout.data.isEmpty { await output(.stdout([UInt8](message.stdout.data))) }
            if message.stdout.close { await output(.stdoutClosed) }
          }
          if message.hasStderr {
            if !message.stderr.data.isEmpty { await output(.stderr([UInt8](message.stderr.data))) }
            if message.stderr.close { await output(.stderrClosed) }
          }
          if message.exited { return message.result }
        }
        throw PluginCallError.other("exec stream ended without an exit result")
      }
    }
  }
}
