import Foundation
import MiloSys

/// Writes an exec's queued input, in order, to a non-blocking pipe or pty master, so a command
/// that does not read its input never blocks the caller.
///
/// The queue is an `AsyncStream` drained by one task; only a full descriptor is waited for, on
/// `Blocking`, until it has room or the exec's stop descriptor is written (`ExecProcess.finishIO`).
final class InputWriter: Sendable {
  private let queue: AsyncStream<[UInt8]>.Continuation
  private let writer: Task<Void, Never>

  /// Starts writing to `fd` (closed at the end when `ownsFD`); `terminal` ends input with Ctrl-D
  /// instead of closing; a byte on `stopFD` stops the writer.
  init(fd: Int32, ownsFD: Bool, terminal: Bool, stopFD: Int32) {
    let (stream, queue) = AsyncStream.makeStream(of: [UInt8].self)
    self.queue = queue
    writer = Task.detached {
      await Self.drain(stream, to: fd, terminal: terminal, stopFD: stopFD)
      if ownsFD { Glibc.close(fd) }
    }
  }

  /// Queues `bytes`; ignored once input was closed or stopped.
  func write(_ bytes: [UInt8]) {
    guard !bytes.isEmpty else { return }
    queue.yield(bytes)
  }

  /// Ends the input once queued bytes are written.
  func close() {
    queue.finish()
  }

  /// Ends the writer after the stop descriptor was written: queued bytes are dropped.
  func stop() {
    queue.finish()
  }

  /// Returns once the writer has finished with its descriptor.
  func finished() async {
    await writer.value
  }

  private static func drain(_ stream: AsyncStream<[UInt8]>, to fd: Int32, terminal: Bool, stopFD: Int32) async {
    for await bytes in stream {
      if stopped(stopFD) { return }
      guard await writeAll(bytes, to: fd, stopFD: stopFD) else { return }
    }
    // EOF: Ctrl-D on a terminal (in canonical mode); for a pipe, closing it.
    if terminal, !stopped(stopFD) { _ = await writeAll([0x04], to: fd, stopFD: stopFD) }
  }

  /// Whether the stop descriptor was written (never blocks).
  private static func stopped(_ stopFD: Int32) -> Bool {
    var entry = pollfd(fd: stopFD, events: Int16(POLLIN), revents: 0)
    return poll(&entry, 1, 0) > 0
  }

  /// Writes all of `bytes`, waiting for room when the descriptor is full; false when it is gone
  /// or the writer was stopped.
  private static func writeAll(_ bytes: [UInt8], to fd: Int32, stopFD: Int32) async -> Bool {
    var offset = 0
    while offset < bytes.count {
      let (n, error) = bytes.withUnsafeBytes { raw -> (Int, Int32) in
        guard let base = raw.baseAddress else { return (0, 0) }
        let n = Glibc.write(fd, base + offset, raw.count - offset)
        return (n, n < 0 ? errno : 0)
      }
      if n > 0 {
        offset += n
        continue
      }
      if n < 0 && error == EINTR { continue }
      guard n < 0 && error == EAGAIN else { return false }
      guard await Blocking.run({ waitForRoom(fd, stopFD: stopFD) }) else { return false }
    }
    return true
  }

  /// Blocks until `fd` has room (true), or it is gone or the stop descriptor was written (false).
  private static func waitForRoom(_ fd: Int32, stopFD: Int32) -> Bool {
    var fds = [
      pollfd(fd: fd, events: Int16(POLLOUT), revents: 0), pollfd(fd: stopFD, events: Int16(POLLIN), revents: 0),
    ]
    while poll(&fds, 2, -1) < 0 {
      if errno != EINTR { return false }
    }
    return fds[1].revents == 0 && fds[0].revents & Int16(POLLERR | POLLHUP | POLLNVAL) == 0
  }
}
