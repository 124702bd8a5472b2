import Synchronization

/// A value that is set once and awaited by any number of tasks.
///
/// The first `fulfil` wins; later calls are ignored. Waiting is cancellable: a cancelled
/// waiter gets nil.
final class Latch<Value: Sendable>: Sendable {
  private struct State {
    var value: Value?
    var waiters: [UInt64: CheckedContinuation<Value?, Never>] = [:]
    var nextID: UInt64 = 0
  }

  private let state = Mutex(State())

  init() {}

  /// The value, if it has been set.
  var value: Value? { state.withLock { $0.value } }

  /// Whether the value has been set.
  var isFulfilled: Bool { value != nil }

  /// Sets the value and wakes every waiter. Returns false if it was already set.
  @discardableResult
  func fulfil(_ value: Value) -> Bool {
    let waiters: [CheckedContinuation<Value?, Never>]? = state.withLock { state in
      guard state.value == nil else { return nil }
      state.value = value
      let waiting = Array(state.waiters.values)
      state.waiters.removeAll()
      return waiting
    }
    guard let waiters else { return false }
    for waiter in waiters { waiter.resume(returning: value) }
    return true
  }

  /// Waits for the value; nil if the calling task is cancelled first.
  func wait() async -> Value? {
    let id = state.withLock { state -> UInt64 in
      state.nextID += 1
      return state.nextID
    }
    return await withTaskCancellationHandler {
      await withCheckedContinuation { (continuation: CheckedContinuation<Value?, Never>) in
        let immediate: Value?? = state.withLock { state in
          if let value = state.value { return .some(value) }
          if Task.isCancelled { return .some(nil) }
          state.waiters[id] = continuation
          return nil
        }
        if let immediate { continuation.resume(returning: immediate) }
      }
    } onCancel: {
      let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
      waiter?.resume(returning: nil)
    }
  }

  /// Waits at most `timeout` for the value; nil on timeout or cancellation.
  func wait(timeout: Duration) async -> Value? {
    if let value { return value }
    return await withTaskGroup(of: Value?.self) { group in
      group.addTask { await self.wait() }
      group.addTask {
        try? await Task.sleep(for: timeout)
        return nil
      }
      let first = await group.next() ?? nil
      group.cancelAll()
      return first ?? self.value
    }
  }
}
