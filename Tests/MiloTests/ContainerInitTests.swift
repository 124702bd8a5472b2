import Foundation
import MiloSupervisor
import NomadPlugin
import Testing

@testable import Milo

@Suite struct ExitStatusLineTests {
  @Test func rendersAndParsesCodesAndSignals() {
    #expect(ExitStatusLine.render(0) == "exit 0\n")
    #expect(ExitStatusLine.render(3 << 8) == "exit 3\n")
    #expect(ExitStatusLine.render(9) == "signal 9\n")
    #expect(ExitStatusLine.render(10 | 0x80) == "signal 10\n", "a core dump is still the signal")
    #expect(ExitStatusLine.parse("exit 0\n") == 0)
    #expect(ExitStatusLine.parse("exit 143\n") == 143 << 8)
    #expect(ExitStatusLine.parse("signal 10\n") == 10)
    #expect(Spawn.exitCode(ExitStatusLine.parse("signal 10") ?? -1) == 138)
  }

  @Test(arguments: ["", "exit", "exit x", "exit 256", "exit -1", "signal 0", "signal 200", "stop 3", "exit 1 2"])
  func rejectsAnythingElse(_ text: String) {
    #expect(ExitStatusLine.parse(text) == nil)
  }
}

@Suite struct InitBinaryTests {
  @Test func librariesOutsideTheBoundTreesAreFound() {
    let maps = """
      55d0c0a00000-55d0c0a21000 r--p 00000000 08:01 1234 /opt/milo/milo
      7f0000000000-7f0000100000 r-xp 00000000 08:01 22 /opt/swift/usr/lib/swift/linux/libswiftCore.so
      7f0000200000-7f0000300000 r--p 00000000 08:01 23 /opt/swift/usr/lib/swift/linux/libFoundation.so
      7f0000400000-7f0000500000 r-xp 00000000 08:01 24 /usr/lib/x86_64-linux-gnu/libc.so.6
      7f0000600000-7f0000700000 r-xp 00000000 08:01 25 /lib/x86_64-linux-gnu/libm.so.6
      7f0000800000-7f0000900000 rw-p 00000000 00:00 0 [heap]
      7f0000a00000-7f0000b00000 r-xp 00000000 08:01 26 /home/dev/lib/libextra.so.1 (deleted)
      7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]
      """
    #expect(InitBinary.foreignLibraryDirs(maps: maps) == ["/opt/swift/usr/lib/swift/linux"])
    #expect(InitBinary.foreignLibraryDirs(maps: "") == [])
  }

  @Test func thisTestBinaryIsUsable() throws {
    let binary = try #require(InitBinary.current(executable: "/bin/sh"))
    #expect(binary.hostPath == "/bin/sh")
    #expect(InitBinary.current(executable: "/nonexistent/milo") == nil)
    #expect(InitBinary.current(executable: "/etc") == nil)
  }

  @Test func aBinaryOnlyRootCanRunIsNotUsed() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("initbin-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/milo"
    FileManager.default.createFile(atPath: path, contents: Data([0x7f]), attributes: [.posixPermissions: 0o700])
    #expect(InitBinary.current(executable: path) == nil)
    #expect(InitBinary.problem(with: path) == "\(path) is not executable by other users; make it mode 0755")
    #expect(InitBinary.problem(with: "/etc") == "/etc is not a regular file")
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    #expect(InitBinary.problem(with: path) == nil)
    #expect(InitBinary.current(executable: path)?.hostPath == path)
  }
}

@Suite(.enabled(if: geteuid() == 0, "mounts a tmpfs")) struct InitBinaryNoexecTests {
  @Test func aBinaryOnANoexecMountIsNotUsed() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("noexec-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try #require(mount("tmpfs", dir, "tmpfs", UInt(MS_NOEXEC), "size=1m") == 0, "mount: \(errno)")
    defer { umount2(dir, Int32(MNT_DETACH)) }
    let path = dir + "/milo"
    FileManager.default.createFile(atPath: path, contents: Data([0x7f]), attributes: [.posixPermissions: 0o755])
    #expect(InitBinary.current(executable: path) == nil)
    #expect(
      InitBinary.problem(with: path)
        == "\(path) is on a filesystem mounted noexec; install it on one that allows execution")
  }
}

@Suite struct PidsLimitTests {
  @Test func theTaskWinsWithinThePluginsBound() throws {
    #expect(try LaunchPlanner.pidsLimit(task: nil, plugin: 0) == nil)
    #expect(try LaunchPlanner.pidsLimit(task: nil, plugin: 512) == 512)
    #expect(try LaunchPlanner.pidsLimit(task: 100, plugin: 0) == 100)
    #expect(try LaunchPlanner.pidsLimit(task: 100, plugin: 512) == 100)
    #expect(try LaunchPlanner.pidsLimit(task: 512, plugin: 512) == 512)
  }

  @Test func aTaskAboveThePluginsBoundIsRejected() {
    let error = #expect(throws: TaskError.self) { try LaunchPlanner.pidsLimit(task: 600, plugin: 512) }
    #expect(
      error?.description
        == "Error: pids_limit is above the plugin's limit\nExpected: pids_limit ≤ 512 (the milo plugin's pids_limit)\n"
        + "Got: pids_limit = 600\nSuggestion: lower the task's pids_limit, or ask the operator to raise the plugin's.")
  }

  /// As Docker's driver: 0 or less means "not set", so the plugin's limit applies.
  @Test(arguments: [0, -5] as [Int64])
  func aLimitBelowOneIsUnset(_ value: Int64) throws {
    #expect(try LaunchPlanner.pidsLimit(task: value, plugin: 0) == nil)
    #expect(try LaunchPlanner.pidsLimit(task: value, plugin: 300) == 300)
  }

}

@Suite struct CPUHardLimitTests {
  /// Docker's rule: PercentTicks of the period, on every core.
  @Test func theQuotaIsTheTasksShareOfEveryCore() {
    #expect(
      CPUQuota.hardLimit(percentTicks: 0.25, period: 100_000, cores: 2) == CPUQuota(quota: 50_000, period: 100_000))
    #expect(CPUQuota.hardLimit(percentTicks: 0.1, period: 50_000, cores: 8) == CPUQuota(quota: 40_000, period: 50_000))
    #expect(CPUQuota.hardLimit(percentTicks: 0, period: 100_000, cores: 2) == nil, "no share: nothing to cap")
  }

  @Test func aPeriodOutOfRangeIsRejected() throws {
    var options = TaskOptions()
    options.cpuHardLimit = true
    #expect(try LaunchPlanner.cpuQuota(options, 0.5)?.period == 100_000)
    options.cpuCFSPeriod = 0
    #expect(try LaunchPlanner.cpuQuota(options, 0.5)?.period == 100_000, "0 is the default, as for Docker")
    for period in [-1, 999, 1_000_001] as [Int64] {
      options.cpuCFSPeriod = period
      let error = #expect(throws: TaskError.self) { try LaunchPlanner.cpuQuota(options, 0.5) }
      #expect(error?.got == "cpu_cfs_period = \(period)")
    }
    // Without cpu_hard_limit the period is not used, and not checked (as Docker's driver).
    options.cpuHardLimit = false
    #expect(try LaunchPlanner.cpuQuota(options, 0.5) == nil)
  }

  @Test func nomadsOwnQuotaWins() {
    var task = Proto.TaskConfig()
    task.resources.linuxResources.cpuShares = 500
    let hard = CPUQuota(quota: 30_000, period: 100_000)
    #expect(BundleBuilder.resources(task, cpuQuota: hard).cpu?.quota == 30_000)
    #expect(BundleBuilder.resources(task, cpuQuota: hard).cpu?.period == 100_000)
    task.resources.linuxResources.cpuQuota = 20_000
    #expect(BundleBuilder.resources(task, cpuQuota: hard).cpu?.quota == 20_000)
  }
}
