import MiloSupervisor
import Testing

@testable import Milo

/// The message milo gives when a signal would be discarded (`SignalDisposition.discardedMessage`).
@Suite struct SignalDispositionMessageTests {
  @Test func theMessageSaysWhatToDo() {
    #expect(
      SignalDisposition.discardedMessage("usr1")
        == "SIGUSR1 was not sent: the JVM runs as PID 1 in its container (milo's binary is not executable"
        + " by task users, so it cannot run as the container's init) and has no handler for SIGUSR1, so the"
        + " kernel would discard it. Make the milo binary mode 0755 and restart the task, handle SIGUSR1 in"
        + " the application (e.g. sun.misc.Signal.handle), or stop the task to end it.")
  }
}
