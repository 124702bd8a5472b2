import Synchronization

/// The socket path a transport listens on, for callers that wait to announce it: resolved once
/// the socket is bound, or with an error if listening fails or ends first.
final class ListeningAddress: Sendable {
  private struct State {
    var result: Result<String, any Error>?
    var waiters: [CheckedContinuation<String, any Error>] = []
  }

  private let state = Mutex(State())

  /// Settles the address; later calls are ignored.
  func resolve(_ result: Result<String, any Error>) {
    let waiters: [CheckedContinuation<String, any Error>] = state.withLock { state in
      guard state.result == nil else { return [] }
      state.result = result
      defer { state.waiters = [] }
      return state.waiters
    }
    for waiter in waiters { waiter.resume(with: result) }
  }

  /// Waits until the address is settled.
  var value: String {
    get async throws {
      try await withCheckedThrowingContinuation { continuation in
        let result: Result<String, any Error>? = state.withLock { state in
          if let result = state.result { return result }
          state.waiters.append(continuation)
          return nil
        }
        if let result { continuation.resume(with: result) }
      }
    }
  }
}
