import MiloSupervisor
import Testing

@Suite struct RuntimeCommandTests {
  let crun = RuntimeCommand(path: "/usr/bin/crun", root: "/state/runtime")

  @Test func globalOptions() {
    #expect(RuntimeCommand(path: "/usr/bin/crun").globalArguments == ["/usr/bin/crun"])
    #expect(crun.globalArguments == ["/usr/bin/crun", "--root", "/state/runtime"])
    #expect(
      crun.logging(to: "/t/exec.log").globalArguments == [
        "/usr/bin/crun", "--root", "/state/runtime", "--log", "/t/exec.log", "--log-format", "json",
      ])
  }

  @Test func run() {
    #expect(
      crun.runAttachedArguments(containerID: "c1", bundle: "/t/bundle") == [
        "/usr/bin/crun", "--root", "/state/runtime", "run", "--bundle", "/t/bundle", "c1",
      ])
    #expect(
      crun.runArguments(containerID: "c1", bundle: "/t/bundle", pidFile: "/t/container.pid") == [
        "/usr/bin/crun", "--root", "/state/runtime", "run", "--detach", "--bundle", "/t/bundle", "--pid-file",
        "/t/container.pid", "c1",
      ])
    #expect(
      crun.runArguments(containerID: "c1", bundle: "/t/bundle", pidFile: "/t/container.pid", preserveFDs: 1) == [
        "/usr/bin/crun", "--root", "/state/runtime", "run", "--detach", "--preserve-fds", "1", "--bundle",
        "/t/bundle", "--pid-file", "/t/container.pid", "c1",
      ])
  }

  @Test func exec() {
    let plain = RuntimeCommand.ExecOptions(pidFile: "/t/exec-a.pid", user: "1000:1000", cwd: "/")
    #expect(
      crun.logging(to: "/t/exec-a.log").execArguments(containerID: "c1", command: ["ls", "-l"], options: plain) == [
        "/usr/bin/crun", "--root", "/state/runtime", "--log", "/t/exec-a.log", "--log-format", "json", "exec",
        "--pid-file", "/t/exec-a.pid", "--user", "1000:1000", "--no-new-privs", "--cwd", "/", "c1", "ls", "-l",
      ])
    var tty = plain
    tty.consoleSocket = "/t/console-a.sock"
    #expect(
      crun.execArguments(containerID: "c1", command: ["sh"], options: tty) == [
        "/usr/bin/crun", "--root", "/state/runtime", "exec", "--pid-file", "/t/exec-a.pid", "--user", "1000:1000",
        "--no-new-privs", "--cwd", "/", "--tty", "--console-socket", "/t/console-a.sock", "c1", "sh",
      ])
  }

  @Test func stateKillDeleteVersion() {
    #expect(crun.stateArguments(containerID: "c1") == ["/usr/bin/crun", "--root", "/state/runtime", "state", "c1"])
    #expect(
      crun.killArguments(containerID: "c1", signal: "SIGTERM") == [
        "/usr/bin/crun", "--root", "/state/runtime", "kill", "c1", "SIGTERM",
      ])
    #expect(
      crun.killArguments(containerID: "c1", signal: "9", all: true) == [
        "/usr/bin/crun", "--root", "/state/runtime", "kill", "--all", "c1", "9",
      ])
    #expect(
      crun.deleteArguments(containerID: "c1") == [
        "/usr/bin/crun", "--root", "/state/runtime", "delete", "--force", "c1",
      ])
    #expect(crun.versionArguments == ["/usr/bin/crun", "--version"])
  }

  @Test func deleteReportsAMissingRuntime() {
    let missing = RuntimeCommand(path: "/nonexistent/crun", root: "/tmp")
    // Either the spawn fails or the child reports the failure: never a silent success.
    if case .success(let output) = Result(catching: { try missing.delete(containerID: "c1") }) {
      #expect(output != nil)
    }
  }
}
