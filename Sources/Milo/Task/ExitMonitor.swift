import CMiloSys
import Foundation
import Synchronization

/// Wakes waiters when watched processes exit, using pidfds and one poll thread (on `Blocking`)
/// for all tasks.
final class ExitMonitor: Sendable {
  static let shared = ExitMonitor()

  private struct State {
    var waiters: [Int32: [CheckedContinuation<Void, Never>]] = [:]
  }
  private let state = Mutex(State())
  private let wakeRead: Int32
  private let wakeWrite: Int32

  private init() {
    var fds: [Int32] = [-1, -1]
    if milo_pipe2(&fds, O_CLOEXEC | O_NONBLOCK) != 0 { fds = [-1, -1] }
    wakeRead = fds[0]
    wakeWrite = fds[1]
    Blocking.detach(name: "milo-exit-monitor") { [self] in loop() }
  }

  /// Suspends until the process behind `pidfd` exits. The caller keeps ownership of `pidfd`.
  func wait(pidfd: Int32) async {
    await withCheckedContinuation { continuation in
      state.withLock { $0.waiters[pidfd, default: []].append(continuation) }
      var byte: UInt8 = 1
      _ = write(wakeWrite, &byte, 1)
    }
  }

  private func loop() {
    var drain = [UInt8](repeating: 0, count: 64)
    while true {
      let watched = state.withLock { Array($0.waiters.keys) }
      var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
      fds += watched.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
      let ready = poll(&fds, nfds_t(fds.count), -1)
      if ready < 0 {
        if errno == EINTR { continue }
        // An unexpected failure (ENOMEM): back off instead of spinning, then retry.
        usleep(100_000)
        continue
      }
      if fds[0].revents != 0 { _ = read(wakeRead, &drain, drain.count) }
      for entry in fds.dropFirst() where entry.revents != 0 {
        let continuations = state.withLock { $0.waiters.removeValue(forKey: entry.fd) ?? [] }
        continuations.forEach { $0.resume() }
      }
    }
  }
}
