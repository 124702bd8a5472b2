import NomadPlugin

/// A task's exit as the client sees it: the driver's `ExitResult` (Nomad's
/// `drivers.ExitResult`, the SDK's model type) with the wait error and a plugin shutdown.
public struct TaskExit: Sendable, Equatable {
  public var result: ExitResult
  /// `WaitTaskResponse.err`, or the RPC error when `WaitTask` failed.
  public var error: String?
  /// `Err == ErrPluginShutdown`: the plugin exited while the task was being waited on.
  public var pluginShutdown: Bool

  public init(
    exitCode: Int32, signal: Int32 = 0, oomKilled: Bool = false, error: String? = nil, pluginShutdown: Bool = false
  ) {
    self.result = ExitResult(exitCode: exitCode, signal: signal, oomKilled: oomKilled)
    self.error = error
    self.pluginShutdown = pluginShutdown
  }

  /// `Successful()`: exit code 0, no signal, no error.
  public var successful: Bool { result.exitCode == 0 && result.signal == 0 && error == nil && !pluginShutdown }

  init(_ response: WaitTaskResponseProto) {
    self.init(
      exitCode: response.result.exitCode, signal: response.result.signal,
      oomKilled: response.result.oomKilled, error: response.err.isEmpty ? nil : response.err)
  }
}
