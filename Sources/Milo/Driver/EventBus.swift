import Foundation
import NomadPlugin
import Synchronization

/// Fans driver task events out to every open `TaskEvents` stream.
final class EventBus: Sendable {
  private let subscribers = Mutex<[UUID: AsyncStream<DriverTaskEvent>.Continuation]>([:])

  /// A new subscription; it ends when the consumer stops iterating.
  func subscribe() -> AsyncStream<DriverTaskEvent> {
    subscription().events
  }

  /// A new subscription and a way to end it from elsewhere. Up to 256 events wait for a slow
  /// consumer (then the oldest are dropped).
  func subscription() -> (events: AsyncStream<DriverTaskEvent>, end: @Sendable () -> Void) {
    let (stream, continuation) = AsyncStream.makeStream(
      of: DriverTaskEvent.self, bufferingPolicy: .bufferingNewest(256))
    let key = UUID()
    subscribers.withLock { $0[key] = continuation }
    continuation.onTermination = { [weak self] _ in
      _ = self?.subscribers.withLock { $0.removeValue(forKey: key) }
    }
    return (stream, { continuation.finish() })
  }

  /// How many subscriptions are open.
  var subscriberCount: Int { subscribers.withLock { $0.count } }

  /// Emits an event for `config`'s task.
  func emit(_ config: TaskConfig, _ message: String, annotations: [String: String] = [:]) {
    var event = DriverTaskEvent()
    event.taskID = config.id
    event.allocID = config.allocID
    event.taskName = config.name
    event.timestamp = Date()
    event.message = message
    event.annotations = annotations
    let targets = subscribers.withLock { Array($0.values) }
    targets.forEach { $0.yield(event) }
  }
}
