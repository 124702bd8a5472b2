import Foundation
import MiloSupervisor
import MiloSys
import Testing

@Suite struct ExitStatusLineTests {
  @Test func rendersAndParsesCodesAndSignals() {
    #expect(ExitStatusLine.render(0) == "exit 0\n")
    #expect(ExitStatusLine.render(3 << 8) == "exit 3\n")
    #expect(ExitStatusLine.render(9) == "signal 9\n")
    #expect(ExitStatusLine.render(10 | 0x80) == "signal 10\n", "a core dump is still the signal")
    #expect(ExitStatusLine.parse("exit 0\n") == 0)
    #expect(ExitStatusLine.parse("exit 143\n") == 143 << 8)
    #expect(ExitStatusLine.parse("signal 10\n") == 10)
    #expect(WaitStatus(ExitStatusLine.parse("signal 10") ?? -1).shellExitCode == 138)
  }

  @Test(arguments: ["", "exit", "exit x", "exit 256", "exit -1", "signal 0", "signal 200", "stop 3", "exit 1 2"])
  func rejectsAnythingElse(_ text: String) {
    #expect(ExitStatusLine.parse(text) == nil)
  }
}
