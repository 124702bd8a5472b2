/// A task's exit as the client sees it (Nomad's `drivers.ExitResult`, named apart from the SDK's
/// `ExitResult`; this one also carries the wait error and a plugin shutdown).
public struct TaskExit: Sendable, Equatable {
  public var exitCode: Int
  public var signal: Int
  public var oomKilled: Bool
  /// `WaitTaskResponse.err`, or the RPC error when `WaitTask` failed.
  public var error: String?
  /// `Err == ErrPluginShutdown`: the plugin exited while the task was being waited on.
  public var pluginShutdown: Bool

  public init(
    exitCode: Int, signal: Int = 0, oomKilled: Bool = false, error: String? = nil, pluginShutdown: Bool = false
  ) {
    self.exitCode = exitCode
    self.signal = signal
    self.oomKilled = oomKilled
    self.error = error
    self.pluginShutdown = pluginShutdown
  }

  /// `Successful()`: exit code 0, no signal, no error.
  public var successful: Bool { exitCode == 0 && signal == 0 && error == nil && !pluginShutdown }

  init(_ response: WaitTaskResponseProto) {
    self.init(
      exitCode: Int(response.result.exitCode), signal: Int(response.result.signal),
      oomKilled: response.result.oomKilled, error: response.err.isEmpty ? nil : response.err)
  }
}
