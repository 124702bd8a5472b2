import Dispatch
import Foundation

/// Waits for SIGINT or SIGTERM (or a deadline). A second signal exits at once.
// DispatchSource is thread-safe; the stream is Sendable.
final class InterruptWatcher: @unchecked Sendable {
  private let sources: [any DispatchSourceSignal]
  private let stream: AsyncStream<Void>

  /// Ignores SIGINT, SIGTERM (so that only this watcher sees them) and SIGPIPE, then watches.
  static func ignoringTerminationSignals() -> InterruptWatcher {
    signal(SIGINT, SIG_IGN)
    signal(SIGTERM, SIG_IGN)
    signal(SIGPIPE, SIG_IGN)
    return InterruptWatcher()
  }

  init() {
    let (stream, continuation) = AsyncStream<Void>.makeStream()
    self.stream = stream
    let count = Counter()
    sources = [SIGINT, SIGTERM].map { number in
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler {
        if count.increment() > 1 {
          FileHandle.standardError.write(Data("==> second interrupt: exiting at once\n".utf8))
          exit(130)
        }
        continuation.yield()
      }
      source.resume()
      return source
    }
  }

  /// Returns a description of why the job should stop.
  func wait(stopAfter: Double?) async -> String {
    let stream = self.stream
    return await withTaskGroup(of: String?.self) { group in
      group.addTask {
        for await _ in stream { return "Interrupt (SIGINT/SIGTERM) received" }
        return nil
      }
      if let stopAfter {
        group.addTask {
          try? await Task.sleep(for: .milliseconds(Int(stopAfter * 1000)))
          return Task.isCancelled ? nil : "--stop-after \(stopAfter)s elapsed"
        }
      }
      var reason = "Stopping"
      while let next = await group.next() {
        if let next {
          reason = next
          break
        }
        if Task.isCancelled { break }
      }
      group.cancelAll()
      return reason
    }
  }
}

/// A thread-safe counter.
final class Counter: @unchecked Sendable {
  private let lock = NSLock()
  private var value = 0

  func increment() -> Int {
    lock.lock()
    defer { lock.unlock() }
    value += 1
    return value
  }
}
