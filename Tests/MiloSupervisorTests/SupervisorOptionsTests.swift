import MiloSupervisor
import Testing

@Suite struct SupervisorOptionsTests {
  private let full = SupervisorOptions(
    stateDir: "/run/milo/tasks/abc", runtime: "/usr/bin/crun", runtimeRoot: "/run/milo/runtime",
    bundle: "/run/milo/tasks/abc/bundle", containerID: "abc", stdoutPath: "/alloc/logs/.app.stdout.fifo",
    stderrPath: "/alloc/logs/.app.stderr.fifo", bufferBytes: 4_194_304,
    hideMount: "/sys/fs/cgroup/unified", oomFile: "/sys/fs/cgroup/milo/abc/memory.events")

  @Test func argumentsAreFlagValuePairs() {
    #expect(
      full.arguments == [
        "--state-dir", "/run/milo/tasks/abc", "--runtime", "/usr/bin/crun", "--runtime-root",
        "/run/milo/runtime", "--bundle", "/run/milo/tasks/abc/bundle", "--id", "abc", "--stdout",
        "/alloc/logs/.app.stdout.fifo", "--stderr", "/alloc/logs/.app.stderr.fifo", "--buffer-bytes",
        "4194304", "--hide-mount", "/sys/fs/cgroup/unified", "--oom-file",
        "/sys/fs/cgroup/milo/abc/memory.events",
      ])
  }

  @Test func optionalArgumentsAreLeftOut() throws {
    var options = full
    options.hideMount = nil
    options.oomFile = nil
    #expect(options.arguments.count == 16)
    #expect(!options.arguments.contains("--hide-mount"))
    #expect(!options.arguments.contains("--oom-file"))
    #expect(try SupervisorOptions(arguments: options.arguments) == options)
  }

  @Test func roundTrip() throws {
    #expect(try SupervisorOptions(arguments: full.arguments) == full)
    var withInit = full
    withInit.containerInit = true
    #expect(withInit.arguments.suffix(2) == ["--container-init", "true"])
    #expect(try SupervisorOptions(arguments: withInit.arguments) == withInit)
  }

  @Test func valuesMayStartWithDashes() throws {
    var options = full
    options.stdoutPath = "--weird"
    #expect(try SupervisorOptions(arguments: options.arguments).stdoutPath == "--weird")
  }

  @Test func missingRequiredArgument() {
    var without = full.arguments
    let index = without.firstIndex(of: "--bundle")!
    without.removeSubrange(index...(index + 1))
    let error = caught(SupervisorError.self) { try SupervisorOptions(arguments: without) }
    #expect(error?.description == "missing supervisor argument --bundle")
  }

  @Test func emptyRequiredValueIsMissing() {
    var options = full
    options.containerID = ""
    let error = caught(SupervisorError.self) { try SupervisorOptions(arguments: options.arguments) }
    #expect(error?.description == "missing supervisor argument --id")
  }

  @Test func danglingFlag() {
    let error = caught(SupervisorError.self) { try SupervisorOptions(arguments: full.arguments + ["--extra"]) }
    #expect(error?.description == "unexpected supervisor argument --extra")
  }

  @Test func positionalArgument() {
    let error = caught(SupervisorError.self) { try SupervisorOptions(arguments: ["stray", "x"] + full.arguments) }
    #expect(error?.description == "unexpected supervisor argument stray")
  }

  @Test(arguments: ["0", "-5", "lots", "1.5"])
  func bufferBytesMustBePositive(value: String) {
    var args = full.arguments
    args[args.firstIndex(of: "--buffer-bytes")! + 1] = value
    let error = caught(SupervisorError.self) { try SupervisorOptions(arguments: args) }
    #expect(error?.description == "--buffer-bytes must be a positive integer")
  }

  @Test func emptyArguments() {
    let error = caught(SupervisorError.self) { try SupervisorOptions(arguments: []) }
    #expect(error?.description == "missing supervisor argument --buffer-bytes")
  }
}
