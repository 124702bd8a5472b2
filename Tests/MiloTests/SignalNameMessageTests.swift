import MiloSys
import Testing

@testable import Milo

/// milo's text for a signal name Nomad passed that is not one.
@Suite struct SignalNameMessageTests {
  @Test func unknownMessage() {
    #expect(
      SignalNames.unknownMessage("SIGFOO")
        == "unknown signal \"SIGFOO\": expected a name such as SIGHUP, SIGINT, SIGTERM, SIGUSR1 or SIGQUIT")
  }
}
