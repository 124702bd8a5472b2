import Foundation
import Synchronization

/// Fans values out to any number of `AsyncStream` subscribers and remembers the latest one.
public final class Broadcaster<Element: Sendable>: Sendable {
  private struct State {
    var latest: Element?
    var subscribers: [UUID: AsyncStream<Element>.Continuation] = [:]
    var finished = false
  }

  private let state = Mutex(State())

  /// Creates an empty broadcaster.
  public init() {}

  /// The most recently published value.
  public var latest: Element? { state.withLock { $0.latest } }

  /// A stream of values published from now on; when `replayLatest` is true it starts with the
  /// latest value, if any. The stream ends when the broadcaster finishes.
  public func subscribe(replayLatest: Bool = true) -> AsyncStream<Element> {
    let (stream, continuation) = AsyncStream<Element>.makeStream(bufferingPolicy: .unbounded)
    let id = UUID()
    let (latest, finished): (Element?, Bool) = state.withLock { state in
      if !state.finished { state.subscribers[id] = continuation }
      return (state.latest, state.finished)
    }
    if replayLatest, let latest { continuation.yield(latest) }
    if finished {
      continuation.finish()
    } else {
      continuation.onTermination = { [weak self] _ in
        _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
      }
    }
    return stream
  }

  /// Publishes a value to every subscriber.
  public func publish(_ value: Element) {
    let subscribers = state.withLock { state -> [AsyncStream<Element>.Continuation] in
      guard !state.finished else { return [] }
      state.latest = value
      return Array(state.subscribers.values)
    }
    for subscriber in subscribers { subscriber.yield(value) }
  }

  /// Ends every subscription; later publishes are ignored.
  public func finish() {
    let subscribers = state.withLock { state -> [AsyncStream<Element>.Continuation] in
      state.finished = true
      defer { state.subscribers.removeAll() }
      return Array(state.subscribers.values)
    }
    for subscriber in subscribers { subscriber.finish() }
  }
}
