import Foundation

/// A counting gate between an exec's output writers and a (possibly slow) client.
final class Credits: @unchecked Sendable {
  private let condition = NSCondition()
  private var available: Int
  private var stopped = false

  init(_ count: Int) { available = count }

  /// Takes a credit, waiting for one; false once stopped.
  func acquire() -> Bool {
    condition.lock()
    defer { condition.unlock() }
    while available == 0 && !stopped { condition.wait() }
    if stopped { return false }
    available -= 1
    return true
  }

  func give() {
    condition.lock()
    available += 1
    condition.signal()
    condition.unlock()
  }

  func stop() {
    condition.lock()
    stopped = true
    condition.broadcast()
    condition.unlock()
  }
}
