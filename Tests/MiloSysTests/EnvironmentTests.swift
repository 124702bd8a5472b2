import MiloSys
import Testing

/// `Environment`: the process environment and the one PATH lookup every module uses.
@Suite struct EnvironmentTests {
  @Test func listsAndLooksUpTheProcessEnvironment() {
    let list = Environment.list()
    #expect(list.contains { $0.hasPrefix("PATH=") })
    #expect(Environment.value("PATH") == Environment.dictionary()["PATH"])
    #expect(Environment.value("MILO_SURELY_UNSET_VARIABLE") == nil)
  }

  @Test func findsAnExecutableOnTheGivenSearchPath() {
    #expect(Environment.executable(named: "sh", searchPath: "/nonexistent:/bin") == "/bin/sh")
    #expect(Environment.executable(named: "sh", searchPath: "") == nil)
    #expect(Environment.executable(named: "/bin/sh") == "/bin/sh")
    let dir = TempDir("milo-environment")
    let plain = dir.path + "/plain"
    let fd = open(plain, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
    #expect(Posix.writeAll(fd, Array("x".utf8)))
    close(fd)
    #expect(Environment.executable(named: plain) == nil, "not executable")
    #expect(Environment.executable(named: "plain", searchPath: dir.path) == nil)
    #expect(Environment.executable(named: "milo-no-such-tool") == nil)
  }
}
