import Foundation
import MiloSys
import Testing

@testable import MiloSupervisor

/// `milo init` run directly (outside a container): the exit status it reports, signal
/// forwarding, and errors. Inside containers it is covered by the operations and exec suites.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: Fixtures.miloBinary), "needs the milo binary"))
struct ContainerInitTests {
  struct Outcome {
    var status: Int32
    var statusLine: String
    var stdout: String
    var stderr: String
  }

  /// Runs `milo init <command>` with a status pipe on descriptor 3, as the supervisor does;
  /// `whenReady` runs with the init's pid once its stdout has shown `ready`.
  static func run(_ command: [String], whenReady: ((pid_t) -> Void)? = nil) throws -> Outcome {
    let out = try Posix.pipe()
    let err = try Posix.pipe()
    let status = try Posix.pipe()
    let pid = try Spawn.start(
      [Fixtures.miloBinary, "init"] + command, environment: Environment.list(),
      stdio: Spawn.Stdio(stdin: -1, stdout: out.write, stderr: err.write), passFD: status.write)
    close(out.write)
    close(err.write)
    close(status.write)
    var stdout = ""
    var ready = whenReady == nil
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
      let n = chunk.withUnsafeMutableBytes { read(out.read, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      stdout += String(decoding: chunk[0..<n], as: UTF8.self)
      if !ready && stdout.contains("ready\n") {
        ready = true
        whenReady?(pid)
      }
    }
    let waitStatus = Spawn.waitFor(pid)
    func drain(_ fd: Int32) -> String {
      var text = ""
      while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        text += String(decoding: chunk[0..<n], as: UTF8.self)
      }
      close(fd)
      return text
    }
    close(out.read)
    return Outcome(status: waitStatus, statusLine: drain(status.read), stdout: stdout, stderr: drain(err.read))
  }

  @Test func anExitCodeIsPassedOnExactly() throws {
    let outcome = try Self.run(["/bin/sh", "-c", "echo hello; echo oops >&2; exit 3"])
    #expect(WaitStatus(outcome.status).shellExitCode == 3)
    #expect(outcome.statusLine == "exit 3\n")
    #expect(outcome.stdout == "hello\n")
    #expect(outcome.stderr == "oops\n")
  }

  /// The init cannot die by the signal that killed the app (it is PID 1 in a container), so it
  /// exits 128+N and reports the signal itself on descriptor 3.
  @Test func aSignalDeathIsReportedAsTheSignal() throws {
    let outcome = try Self.run(["/bin/sh", "-c", "kill -USR1 $$; sleep 5"])
    #expect(WaitStatus(outcome.status).shellExitCode == 138)
    #expect(WaitStatus(outcome.status).exitCode != nil)
    #expect(outcome.statusLine == "signal 10\n")
  }

  /// Signals sent to the init reach the app: one it handles (TERM, trapped) and one whose
  /// default action ends it (USR1).
  @Test func signalsAreForwardedToTheApp() throws {
    let script = "trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.05; done"
    let trapped = try Self.run(["/bin/sh", "-c", script]) { pid in kill(pid, SIGTERM) }
    #expect(trapped.stdout == "ready\ngot-term\n")
    #expect(trapped.statusLine == "exit 7\n")
    #expect(WaitStatus(trapped.status).shellExitCode == 7)

    let ended = try Self.run(["/bin/sh", "-c", "echo ready; while :; do sleep 0.05; done"]) { pid in
      kill(pid, SIGUSR1)
    }
    #expect(ended.statusLine == "signal 10\n")
    #expect(WaitStatus(ended.status).shellExitCode == 138)
  }

  /// A fault signal someone sends (not a real fault in the init) is forwarded like any other.
  @Test func sentFaultSignalsAreForwardedToo() throws {
    let outcome = try Self.run(["/bin/sh", "-c", "echo ready; while :; do sleep 0.05; done"]) { pid in
      kill(pid, SIGSEGV)
    }
    #expect(outcome.statusLine == "signal 11\n")
    #expect(WaitStatus(outcome.status).shellExitCode == 139)
  }

  /// What the supervisor checks before it signals a container's init: the init blocks the
  /// signals it forwards (so the kernel queues them), and its child is the program.
  @Test func theInitBlocksWhatItForwardsAndItsChildIsTheProgram() throws {
    func blocks(_ pid: pid_t, _ signal: Int32) -> Bool {
      SignalDisposition.read(pid: pid)?.blocked.contains(signal) == true
    }
    var checked = false
    let outcome = try Self.run(["/bin/sh", "-c", "echo ready; exec sleep 5"]) { pid in
      let deadline = ContinuousClock.now + .seconds(5)
      while !blocks(pid, SIGTERM) && ContinuousClock.now < deadline { usleep(5_000) }
      for signal in ContainerInit.forwarded { #expect(blocks(pid, signal), "\(signal)") }
      #expect(blocks(pid, SIGCHLD), "SIGCHLD is the init's own, read from its signalfd")
      let children = Supervisor.children(of: pid)
      #expect(children.count == 1)
      if let child = children.first {
        #expect(!blocks(child, SIGTERM), "the program starts with an empty mask")
        kill(child, SIGTERM)
      }
      checked = true
    }
    #expect(checked)
    #expect(outcome.statusLine == "signal 15\n")
  }

  @Test func aMissingProgramIsExplained() throws {
    let outcome = try Self.run(["/nonexistent/java", "-version"])
    #expect(WaitStatus(outcome.status).shellExitCode == 127)
    #expect(outcome.statusLine == "")
    #expect(
      outcome.stderr == "milo init: cannot run /nonexistent/java: start /nonexistent/java: No such file or directory\n")

    let empty = try Self.run([])
    #expect(WaitStatus(empty.status).shellExitCode == 127)
    #expect(empty.stderr == "milo init: no command given (usage: milo init <program> [arguments...])\n")
  }
}
