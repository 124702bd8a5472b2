import Foundation
import MiloSupervisor
import Testing

@Suite struct SignalDispositionTests {
  /// A JVM's /proc/<pid>/status (abridged) as PID 1 of a container.
  static let jvm = """
    Name:\tjava
    Umask:\t0022
    State:\tS (sleeping)
    Tgid:\t30169
    Ngid:\t0
    Pid:\t30169
    PPid:\t30150
    NSpid:\t30169\t1
    SigQ:\t0/96365
    SigPnd:\t0000000000000000
    ShdPnd:\t0000000000000000
    SigBlk:\t0000000000000000
    SigIgn:\t0000000000000000
    SigCgt:\t2000000101005ccf

    """

  @Test func aJVMAsPidOneCatchesHupIntQuitTermUsr2ButNotUsr1() throws {
    let disposition = try #require(SignalDisposition.parse(status: Self.jvm))
    #expect(disposition.isNamespaceInit)
    #expect(disposition.caught.isSuperset(of: [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR2, SIGSEGV, SIGPIPE]))
    #expect(!disposition.caught.contains(SIGUSR1))
    #expect(disposition.discards(SIGUSR1))
    #expect(disposition.discards(SIGALRM))
    #expect(!disposition.discards(SIGHUP) && !disposition.discards(SIGTERM) && !disposition.discards(SIGQUIT))
    #expect(!disposition.discards(SIGKILL) && !disposition.discards(SIGSTOP))
  }

  @Test func anOrdinaryProcessDiscardsNothing() throws {
    let status = Self.jvm.replacingOccurrences(of: "NSpid:\t30169\t1", with: "NSpid:\t30169")
    let disposition = try #require(SignalDisposition.parse(status: status))
    #expect(!disposition.isNamespaceInit)
    #expect(!disposition.discards(SIGUSR1))
  }

  @Test func withoutNSpidThePidDecides() throws {
    let status = Self.jvm.replacingOccurrences(of: "NSpid:\t30169\t1\n", with: "").replacingOccurrences(
      of: "Pid:\t30169", with: "Pid:\t1")
    let disposition = try #require(SignalDisposition.parse(status: status))
    #expect(disposition.innermostPid == 1)
  }

  @Test func thisProcess() throws {
    let mine = try #require(SignalDisposition.read(pid: getpid()))
    #expect(mine.innermostPid == getpid() || mine.isNamespaceInit == false)
    #expect(SignalDisposition.read(pid: Int32.max) == nil)
    #expect(SignalDisposition.parse(status: "Name:\tx\n") == nil)
  }

  /// `milo init` blocks every signal it forwards (read from a signalfd): blocked signals are
  /// queued, not discarded, even for a namespace's init.
  @Test func anInitThatBlocksSignalsDiscardsNone() throws {
    let status = Self.jvm.replacingOccurrences(of: "SigBlk:\t0000000000000000", with: "SigBlk:\t000000003ffbfa27")
      .replacingOccurrences(of: "SigCgt:\t2000000101005ccf", with: "SigCgt:\t0000000000000000")
    let disposition = try #require(SignalDisposition.parse(status: status))
    #expect(disposition.isNamespaceInit)
    #expect(disposition.blocked.isSuperset(of: [SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM, SIGCHLD]))
    #expect(!disposition.blocked.contains(SIGSEGV))
    for signal in [SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM, SIGALRM, SIGWINCH] {
      #expect(!disposition.discards(signal), "\(signal)")
    }
  }
}
