import CMiloSys

/// A signal whose arrival is only recorded (an async-signal-safe handler), for a loop that
/// checks it, such as a server waiting for SIGTERM.
public struct SignalFlag: Sendable {
  /// The signal number.
  public let signal: Int32

  /// Installs the recording handler for `signal`.
  public init(installingFor signal: Int32) {
    self.signal = signal
    milo_install_flag_handler(signal)
  }

  /// Whether the signal arrived since the last call; clears the record.
  public func take() -> Bool { milo_take_signal_flag(signal) != 0 }
}
