import CMiloSys

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// A process descriptor (pidfd): it names one process for its whole life, so a signal sent
/// through it never reaches a later process that reuses the pid, and it becomes readable when
/// the process exits.
public struct PidFD: Sendable, Equatable {
  /// The descriptor, to poll for POLLIN (the process exited).
  public let fd: Int32

  /// Opens a pidfd for `pid`.
  public init(pid: pid_t) throws(SystemError) {
    let fd = milo_pidfd_open(pid)
    guard fd >= 0 else { throw SystemError("pidfd_open \(pid)", errno: -fd) }
    self.fd = fd
  }

  /// Whether the process has exited (it may not be reaped yet).
  public var hasExited: Bool {
    var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    var ready: Int32
    repeat { ready = poll(&entry, 1, 0) } while ready < 0 && errno == EINTR
    return ready > 0 && entry.revents != 0
  }

  /// Sends `signal`. Returns false when it could not (e.g. the process is gone).
  @discardableResult
  public func send(_ signal: Int32) -> Bool { milo_pidfd_send_signal(fd, signal) == 0 }

  /// Queues `carrier` with `value` as its payload (SI_QUEUE), which the receiver reads from its
  /// signalfd (`SignalFD.next`).
  @discardableResult
  public func queue(_ carrier: Int32, value: Int32) -> Bool {
    milo_pidfd_queue_signal(fd, carrier, value) == 0
  }

  /// A second descriptor for the same process, to use while another owner may close this one.
  public func duplicate() -> PidFD? {
    let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
    return copy >= 0 ? PidFD(fd: copy) : nil
  }

  private init(fd: Int32) { self.fd = fd }

  /// Closes the descriptor.
  public func close() { _ = Glibc.close(fd) }
}
