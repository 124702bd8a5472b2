import Foundation

/// The one way Milo (and milo-bench) runs blocking work (waitpid, blocking reads, a console
/// socket's accept): on a thread of its own, never on Swift's cooperative pool, whose few
/// threads a blocked call would take away from every task.
public enum Blocking {
  /// Runs `body` on a fresh thread and returns its result.
  public static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
      let thread = Thread { continuation.resume(returning: body()) }
      thread.start()
    }
  }

  /// Starts `body` on a fresh thread named `name` and returns at once, for loops that outlive
  /// the caller (an exec session's input pump).
  public static func detach(name: String, _ body: @escaping @Sendable () -> Void) {
    let thread = Thread(block: body)
    thread.name = name
    thread.start()
  }
}
