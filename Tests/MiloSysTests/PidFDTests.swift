import MiloSys
import Testing

/// `PidFD` and `SignalFD` on real processes and threads.
@Suite struct PidFDTests {
  @Test func signalsAndSeesTheExitOfARealChild() throws {
    let pid = try Spawn.start(["/bin/sleep", "30"], environment: [], stdio: Spawn.Stdio())
    let pidfd = try PidFD(pid: pid)
    defer { pidfd.close() }
    #expect(!pidfd.hasExited)
    #expect(pidfd.send(SIGTERM))
    #expect(WaitStatus(Spawn.waitFor(pid)).signal == SIGTERM)
    #expect(pidfd.hasExited)
    #expect(!pidfd.send(SIGTERM), "a reaped process cannot be signalled through its pidfd")
  }

  @Test func aMissingProcessIsAnError() {
    #expect(throws: SystemError.self) { try PidFD(pid: 999_999_999) }
  }

  @Test func aSignalFDReadsABlockedSignal() async {
    // On a thread of its own, and sent to that thread only: the signal mask change stays with
    // it, and no other thread of the test process (where SIGUSR2 would end it) sees the signal.
    let read: [Int32] = await Blocking.run {
      guard let signals = try? SignalFD(blocking: [SIGUSR2]) else { return [] }
      defer { close(signals.fd) }
      let none: Int32 = signals.next() == nil ? 1 : 0
      _ = pthread_kill(pthread_self(), SIGUSR2)
      guard let (signal, payload) = signals.next() else { return [none] }
      return [none, signal, payload, signals.next() == nil ? 1 : 0]
    }
    #expect(read == [1, SIGUSR2, 0, 1], "nothing pending, then SIGUSR2 with no payload, then nothing")
  }
}
