import CMiloSys

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The one way blocking work (waitpid, blocking reads, flock, a socket's accept) is run: on a
/// thread of its own, never on Swift's cooperative pool, whose few threads a blocked call would
/// take away from every task.
public enum Blocking {
  /// Runs `body` on a fresh thread and returns its result; on the caller's thread when no
  /// thread can be made, since the work must be done either way.
  public static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
      let started = detach(name: "milo-blocking") { continuation.resume(returning: body()) }
      if !started { continuation.resume(returning: body()) }
    }
  }

  /// Starts `body` on a fresh detached thread named `name` (the kernel keeps 15 bytes of it) and
  /// returns at once, for loops that outlive the caller. When the system is out of threads it
  /// tries again for about a second, then returns false without running `body` (running a
  /// loop that never ends on the caller's thread would hang the caller instead).
  @discardableResult
  public static func detach(name: String, _ body: @escaping @Sendable () -> Void) -> Bool {
    let work = Unmanaged.passRetained(Work(name: name, body: body)).toOpaque()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    var thread = pthread_t()
    for attempt in 0..<50 {
      let started = pthread_create(
        &thread, &attributes,
        { raw in
          guard let raw else { return nil }
          let work = Unmanaged<Work>.fromOpaque(raw).takeRetainedValue()
          _ = milo_set_thread_name(work.name)
          work.body()
          return nil
        }, work)
      if started == 0 { return true }
      if started != EAGAIN || attempt == 49 { break }
      usleep(20_000)
    }
    Unmanaged<Work>.fromOpaque(work).release()
    return false
  }

  private final class Work {
    let name: String
    let body: @Sendable () -> Void
    init(name: String, body: @escaping @Sendable () -> Void) {
      self.name = name
      self.body = body
    }
  }
}
