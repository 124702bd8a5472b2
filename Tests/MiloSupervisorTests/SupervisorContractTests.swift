import MiloSupervisor
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite struct SupervisorContractTests {
  @Test func versionAndSignalsAreFixed() {
    // Changing these breaks a plugin talking to an installed helper: bump the version with them.
    #expect(SupervisorContract.protocolVersion == "milo-task protocol 1")
    #expect(SupervisorMain.protocolVersion == SupervisorContract.protocolVersion)
    #expect(SupervisorContract.signalCarrier == SIGUSR2)
    #expect(SupervisorContract.terminateSignal == SIGTERM)
  }

  @Test func exitRecordRoundTripsThroughItsFile() {
    let records = [
      ExitRecord(exitCode: 0, startedAt: 1, finishedAt: 2),
      ExitRecord(exitCode: 137, signal: 9, oomKilled: true, startedAt: 10, finishedAt: 20),
      ExitRecord(exitCode: -1, startedAt: 5, finishedAt: 6, startError: "no runtime"),
    ]
    for record in records { #expect(ExitRecord(text: record.text) == record) }
  }

  @Test func argumentsRoundTrip() throws {
    let options = SupervisorOptions(
      stateDir: "/s/tasks/c", runtime: "/usr/bin/crun", runtimeRoot: "/s/runtime", bundle: "/s/tasks/c/bundle",
      containerID: "c", stdoutPath: "/f/out", stderrPath: "/f/err", bufferBytes: 1 << 20,
      hideMount: "/sys/fs/cgroup/unified", oomFile: "/sys/fs/cgroup/milo/c/memory.events", containerInit: true,
      cgroupParent: "/milo")
    #expect(try SupervisorOptions(arguments: options.arguments) == options)
  }
}
