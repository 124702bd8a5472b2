import MiloSys
import Testing

/// Signal names as Nomad passes them, one table for every module.
@Suite struct SignalNamesTests {
  @Test(arguments: [
    ("SIGHUP", Int32(1)), ("HUP", 1), ("hup", 1), ("sigint", 2), ("SIGQUIT", 3), ("SIGABRT", 6), ("SIGIOT", 6),
    ("SIGKILL", 9), ("SIGUSR1", 10), ("SIGSEGV", 11), ("USR2", 12), ("SIGPIPE", 13), ("SIGALRM", 14),
    ("SIGTERM", 15), ("Term", 15), ("SIGSTKFLT", 16), ("SIGCHLD", 17), ("SIGCONT", 18), ("SIGSTOP", 19),
    ("SIGTSTP", 20), ("SIGWINCH", 28), ("SIGIO", 29), ("SIGPWR", 30), ("SIGSYS", 31),
  ])
  func knownNames(name: String, number: Int32) {
    #expect(SignalNames.number(name) == number)
  }

  @Test(arguments: ["", "SIG", "SIGFOO", "15", "SIG_TERM", " SIGTERM", "SIGRTMIN", "SIGSIGHUP"])
  func unknownNames(name: String) {
    #expect(SignalNames.number(name) == nil)
  }

  @Test func everyStandardSignalHasAName() {
    #expect(Set(SignalNames.byName.values) == Set(1...31))
    #expect(SignalNames.byName.count == 32)
  }
}
