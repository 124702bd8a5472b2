import Synchronization

/// A one-shot event: the first `fire` wakes the waiter; later calls do nothing.
final class ShutdownTrigger: Sendable {
  private let state = Mutex<(fired: String?, waiter: CheckedContinuation<String?, Never>?)>((nil, nil))

  func fire(_ reason: String) {
    let waiter = state.withLock { state -> CheckedContinuation<String?, Never>? in
      guard state.fired == nil else { return nil }
      state.fired = reason
      defer { state.waiter = nil }
      return state.waiter
    }
    waiter?.resume(returning: reason)
  }

  /// Returns the reason once fired (or nil if the waiting task is cancelled).
  func wait() async -> String? {
    await withTaskCancellationHandler {
      await withCheckedContinuation { continuation in
        let fired = state.withLock { state -> String? in
          if let fired = state.fired { return fired }
          state.waiter = continuation
          return nil
        }
        if let fired { continuation.resume(returning: fired) }
      }
    } onCancel: {
      let waiter = state.withLock { state -> CheckedContinuation<String?, Never>? in
        defer { state.waiter = nil }
        return state.waiter
      }
      waiter?.resume(returning: nil)
    }
  }
}
