import CMiloSys

/// The unix socket an OCI runtime sends a container's pty master through (`--console-socket`),
/// and the terminal's size.
public struct ConsoleSocket: Sendable {
  /// The listening descriptor.
  public let fd: Int32

  /// Listens at `path`.
  public init(listeningAt path: String) throws(SystemError) {
    let fd = milo_console_socket_listen(path)
    guard fd >= 0 else { throw SystemError("console socket \(path)", errno: -fd) }
    self.fd = fd
  }

  /// Accepts the runtime's one connection (waiting at most `timeoutMilliseconds`) and returns
  /// the pty master it sends. Fails with ETIMEDOUT, or ECHILD when `runtime` (its pidfd) exits
  /// first without connecting.
  public func receiveTerminal(timeoutMilliseconds: Int32, runtime: PidFD?) -> Result<Int32, SystemError> {
    let terminal = milo_console_socket_receive(fd, timeoutMilliseconds, runtime?.fd ?? -1)
    return terminal >= 0 ? .success(terminal) : .failure(SystemError("console socket", errno: -terminal))
  }

  /// Sets a terminal's window size (its foreground process gets SIGWINCH).
  @discardableResult
  public static func setWindowSize(_ terminal: Int32, rows: UInt16, cols: UInt16) -> Bool {
    milo_set_window_size(terminal, rows, cols) == 0
  }
}
