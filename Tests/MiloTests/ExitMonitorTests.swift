import Glibc
import MiloSys
import Testing

@testable import Milo

/// `ExitMonitor`: waits on real processes' pidfds, woken by their exits; bounded and
/// cancellable waits end without the process.
@Suite struct ExitMonitorTests {
  func sleeper() throws -> (pid: Int32, pidfd: PidFD) {
    let pid = try Spawn.start(["/bin/sleep", "30"], environment: [], stdio: Spawn.Stdio())
    return (pid, try PidFD(pid: pid))
  }

  @Test func waitForAllEndsAtTheDeadlineOrWhenEveryProcessExited() async throws {
    let first = try sleeper()
    let second = try sleeper()
    defer {
      first.pidfd.close()
      second.pidfd.close()
    }
    let both = [first.pidfd, second.pidfd]
    #expect(await !ExitMonitor.shared.waitForAll(both, timeout: .milliseconds(100)))
    first.pidfd.send(SIGKILL)
    #expect(await !ExitMonitor.shared.waitForAll(both, timeout: .milliseconds(100)), "one still runs")
    second.pidfd.send(SIGKILL)
    let start = ContinuousClock.now
    #expect(await ExitMonitor.shared.waitForAll(both, timeout: .seconds(30)))
    #expect(ContinuousClock.now - start < .seconds(10), "woken by the exits, not the deadline")
    _ = Spawn.waitFor(first.pid)
    _ = Spawn.waitFor(second.pid)
  }

  @Test func aCancelledWaitReturnsWhileTheProcessRuns() async throws {
    let process = try sleeper()
    defer {
      process.pidfd.send(SIGKILL)
      _ = Spawn.waitFor(process.pid)
      process.pidfd.close()
    }
    let waiter = Task { await ExitMonitor.shared.wait(pidfd: process.pidfd.fd) }
    try await Task.sleep(for: .milliseconds(50))
    waiter.cancel()
    await waiter.value
    #expect(!process.pidfd.hasExited)
  }
}
