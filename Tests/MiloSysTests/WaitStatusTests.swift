import MiloSys
import Testing

/// `WaitStatus` decodes the status words of real children, not hand-made bit patterns.
@Suite struct WaitStatusTests {
  func status(of script: String) throws -> WaitStatus {
    WaitStatus(try Spawn.run(["/bin/sh", "-c", script], environment: []).status)
  }

  @Test func anExitIsItsCode() throws {
    let status = try status(of: "exit 3")
    #expect(status.exitCode == 3)
    #expect(status.signal == nil)
    #expect(status.shellExitCode == 3)
  }

  @Test func aSignalIs128PlusItsNumber() throws {
    let status = try status(of: "kill -USR1 $$")
    #expect(status.exitCode == nil)
    #expect(status.signal == SIGUSR1)
    #expect(status.shellExitCode == 128 + SIGUSR1)
  }
}
