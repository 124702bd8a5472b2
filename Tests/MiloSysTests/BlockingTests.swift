import MiloSys
import Synchronization
import Testing

/// `Blocking`: blocking work runs on threads of its own, so a blocked call does not hold up
/// Swift's cooperative pool.
@Suite struct BlockingTests {
  @Test func runReturnsTheResultOfBlockingWork() async throws {
    let pipe = try Posix.pipe()
    defer {
      close(pipe.read)
      close(pipe.write)
    }
    // The read blocks until the write below; its result comes back through the continuation.
    async let byte: UInt8 = Blocking.run {
      var value: UInt8 = 0
      _ = read(pipe.read, &value, 1)
      return value
    }
    #expect(Posix.writeAll(pipe.write, [42]))
    #expect(await byte == 42)
  }

  @Test func detachRunsTheBodyOnANamedThread() async {
    let name = Mutex<String?>(nil)
    Blocking.detach(name: "milo-test-thread-name-longer-than-15") {
      let text = Posix.readText("/proc/thread-self/comm")
      name.withLock { $0 = text }
    }
    #expect(await eventually { name.withLock { $0 } != nil })
    #expect(name.withLock { $0 } == "milo-test-threa\n")
  }
}
