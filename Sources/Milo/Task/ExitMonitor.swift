import Foundation
import MiloSys
import Synchronization

/// Wakes waiters when watched processes exit, using pidfds and one poll thread (on `Blocking`)
/// for all tasks.
final class ExitMonitor: Sendable {
  static let shared = ExitMonitor()

  private struct State {
    var waiters: [Int32: [(id: UInt64, continuation: CheckedContinuation<Void, Never>)]] = [:]
    var nextID: UInt64 = 0
    /// Waits not yet resumed, registered or not.
    var pending: Set<UInt64> = []
    /// Pending waits cancelled before they were registered.
    var cancelled: Set<UInt64> = []
  }
  private let state = Mutex(State())
  private let wakeRead: Int32
  private let wakeWrite: Int32

  private init() {
    let wake = (try? Posix.pipe(flags: O_NONBLOCK)) ?? (read: -1, write: -1)
    wakeRead = wake.read
    wakeWrite = wake.write
    Blocking.detach(name: "milo-exit-monitor") { [self] in loop() }
  }

  /// Suspends until the process behind `pidfd` exits. The caller keeps ownership of `pidfd`
  /// and keeps it open while it waits. A cancelled wait returns at once.
  func wait(pidfd: Int32) async {
    let id = state.withLock { state -> UInt64 in
      state.nextID += 1
      state.pending.insert(state.nextID)
      return state.nextID
    }
    await withTaskCancellationHandler {
      await withCheckedContinuation { continuation in
        let cancelled = state.withLock { state -> Bool in
          if state.cancelled.remove(id) != nil {
            state.pending.remove(id)
            return true
          }
          state.waiters[pidfd, default: []].append((id, continuation))
          return false
        }
        if cancelled {
          continuation.resume()
          return
        }
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
      }
    } onCancel: {
      let waiting = state.withLock { state -> CheckedContinuation<Void, Never>? in
        // Already resumed: nothing to do.
        guard state.pending.contains(id) else { return nil }
        guard let index = state.waiters[pidfd]?.firstIndex(where: { $0.id == id }) else {
          state.cancelled.insert(id)
          return nil
        }
        state.pending.remove(id)
        let entry = state.waiters[pidfd]?.remove(at: index)
        if state.waiters[pidfd]?.isEmpty == true { state.waiters[pidfd] = nil }
        return entry?.continuation
      }
      waiting?.resume()
    }
  }

  /// Waits until every process behind `pidfds` has exited, or `timeout` passes; returns whether
  /// they all exited. The caller keeps ownership of the pidfds.
  func waitForAll(_ pidfds: [PidFD], timeout: Duration) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    await withTaskGroup(of: Void.self) { group in
      group.addTask {
        for pidfd in pidfds { await self.wait(pidfd: pidfd.fd) }
      }
      group.addTask { try? await Task.sleep(until: deadline, clock: .continuous) }
      await group.next()
      group.cancelAll()
    }
    return pidfds.allSatisfy(\.hasExited)
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
        // Asked again of the descriptor as it is now: a waiter that was cancelled meanwhile may
        // have closed it, and its number may name a newer waiter's pidfd.
        var now = pollfd(fd: entry.fd, events: Int16(POLLIN), revents: 0)
        guard poll(&now, 1, 0) > 0, now.revents != 0 else { continue }
        let waiting = state.withLock { state in
          let waiting = state.waiters.removeValue(forKey: entry.fd) ?? []
          waiting.forEach { state.pending.remove($0.id) }
          return waiting
        }
        waiting.forEach { $0.continuation.resume() }
      }
    }
  }
}
