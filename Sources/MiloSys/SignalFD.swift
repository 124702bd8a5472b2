import CMiloSys

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// A non-blocking signalfd: signals blocked for the calling thread are read from a descriptor
/// (and so polled with others) instead of interrupting the process.
public struct SignalFD: Sendable {
  /// The descriptor, to poll for POLLIN.
  public let fd: Int32

  /// Blocks `signals` for the calling thread (and the threads it starts) and opens a signalfd
  /// for them. Blocked signals stay queued, so none is lost before the first read.
  public init(blocking signals: [Int32]) throws(SystemError) {
    let fd = signals.withUnsafeBufferPointer { milo_signalfd_open($0.baseAddress, Int32($0.count)) }
    guard fd >= 0 else { throw SystemError("signalfd", errno: -fd) }
    self.fd = fd
  }

  /// The next pending signal and the value it was queued with (0 for a plain signal); nil when
  /// none is pending.
  public func next() -> (signal: Int32, value: Int32)? {
    var value: Int32 = 0
    let signal = milo_signalfd_read_value(fd, &value)
    return signal > 0 ? (signal, value) : nil
  }
}
