import Foundation
import MiloSupervisor
import NomadPlugin
import Testing

@testable import Milo

/// Cgroup readers against fake cgroup trees (the integration tests read this host's real v1
/// cgroups; the v2 layout is checked here).
@Suite struct CgroupStatsTests {
  static let path = "/milo/milo-task"

  static func v2Tree(peak: Bool = true, swap: Bool = true, cpuController: Bool = true) -> TempDir {
    let root = TempDir("cgroup-v2")
    let dir = "sys/fs/cgroup" + path
    root.write(
      dir + "/memory.stat",
      Array(
        """
        anon 41943040
        file 8388608
        kernel 1048576
        kernel_stack 180224
        sock 0
        shmem 0
        file_mapped 4096
        anon_thp 0

        """.utf8))
    root.write(dir + "/memory.current", Array("52428800\n".utf8))
    if peak { root.write(dir + "/memory.peak", Array("62914560\n".utf8)) }
    if swap { root.write(dir + "/memory.swap.current", Array("0\n".utf8)) }
    var cpu = "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\ncore_sched.force_idle_usec 0\n"
    if cpuController {
      cpu += "nr_periods 120\nnr_throttled 30\nthrottled_usec 1500000\nnr_bursts 0\nburst_usec 0\n"
    }
    root.write(dir + "/cpu.stat", Array(cpu.utf8))
    return root
  }

  @Test func v2ReadsMemoryAndCPUInNanoseconds() throws {
    let root = Self.v2Tree()
    let sample = try #require(CgroupStats(mode: .v2, path: Self.path, root: root.path + "/sys/fs/cgroup").sample())
    #expect(
      sample
        == CgroupSample(
          rss: 41_943_040, cache: 8_388_608, usage: 52_428_800, maxUsage: 62_914_560, kernelUsage: 1_048_576,
          kernelMaxUsage: nil, swap: 0, cpuTotalNanos: 2_500_000_000, cpuUserNanos: 2_000_000_000,
          cpuSystemNanos: 500_000_000, throttledPeriods: 30, throttledNanos: 1_500_000_000))
  }

  @Test func v2WithoutPeakSwapOrTheCPUControllerMeasuresLess() throws {
    let root = Self.v2Tree(peak: false, swap: false, cpuController: false)
    let sample = try #require(CgroupStats(mode: .v2, path: Self.path, root: root.path + "/sys/fs/cgroup").sample())
    #expect(sample.maxUsage == nil && sample.swap == nil)
    #expect(sample.throttledPeriods == nil && sample.throttledNanos == nil)
    #expect(sample.cpuTotalNanos == 2_500_000_000)
    var builder = TaskStatsBuilder(taskID: "t", totalComputeMHz: 4000)
    let first = builder.build(sample, now: 1_000_000_000)
    #expect(first.aggResourceUsage.memory.measuredFields == [.rss, .cache, .kernelUsage, .usage])
    #expect(first.aggResourceUsage.cpu.measuredFields == [])
    var later = sample
    later.cpuTotalNanos = 3_000_000_000
    later.cpuUserNanos = 2_400_000_000
    later.cpuSystemNanos = 600_000_000
    let second = builder.build(later, now: 2_000_000_000)
    #expect(second.aggResourceUsage.cpu.measuredFields == [.percent, .totalTicks, .userMode, .systemMode])
  }

  @Test func aMissingCgroupIsNoSample() {
    let root = TempDir("cgroup-none")
    #expect(CgroupStats(mode: .v2, path: Self.path, root: root.path).sample() == nil)
    #expect(CgroupStats(mode: .v1, path: Self.path, root: root.path).sample() == nil)
    #expect(CgroupStats(mode: .none, path: Self.path, root: root.path).sample() == nil)
  }

  @Test(arguments: [CgroupMode.v1, .hybrid])
  func v1ReadsEachController(mode: CgroupMode) throws {
    let root = TempDir("cgroup-v1")
    root.write(
      "memory" + Self.path + "/memory.stat",
      Array("cache 4096\nrss 2048\nswap 0\ntotal_cache 8192\ntotal_rss 16384\ntotal_swap 0\n".utf8))
    root.write("memory" + Self.path + "/memory.usage_in_bytes", Array("30000\n".utf8))
    root.write("memory" + Self.path + "/memory.max_usage_in_bytes", Array("40000\n".utf8))
    root.write("memory" + Self.path + "/memory.kmem.usage_in_bytes", Array("500\n".utf8))
    root.write("memory" + Self.path + "/memory.kmem.max_usage_in_bytes", Array("700\n".utf8))
    root.write("cpuacct" + Self.path + "/cpuacct.usage", Array("900000000\n".utf8))
    root.write("cpuacct" + Self.path + "/cpuacct.usage_user", Array("600000000\n".utf8))
    root.write("cpuacct" + Self.path + "/cpuacct.usage_sys", Array("300000000\n".utf8))
    root.write("cpu" + Self.path + "/cpu.stat", Array("nr_periods 10\nnr_throttled 4\nthrottled_time 12345\n".utf8))
    let sample = try #require(CgroupStats(mode: mode, path: Self.path, root: root.path).sample())
    #expect(
      sample
        == CgroupSample(
          rss: 16384, cache: 8192, usage: 30000, maxUsage: 40000, kernelUsage: 500, kernelMaxUsage: 700, swap: 0,
          cpuTotalNanos: 900_000_000, cpuUserNanos: 600_000_000, cpuSystemNanos: 300_000_000, throttledPeriods: 4,
          throttledNanos: 12345))
  }

  @Test func theBuilderComputesPercentagesAndTicksOverTheInterval() {
    var builder = TaskStatsBuilder(taskID: "alloc/task/1", totalComputeMHz: 8000)
    var sample = CgroupSample(
      rss: 1, cache: 2, usage: 3, maxUsage: 4, kernelUsage: 5, kernelMaxUsage: 6, swap: 0, cpuTotalNanos: 1_000_000_000,
      cpuUserNanos: 800_000_000, cpuSystemNanos: 200_000_000, throttledPeriods: 0, throttledNanos: 0)
    let first = builder.build(sample, now: 10_000_000_000, wallClock: Date(timeIntervalSince1970: 100))
    #expect(first.id == "alloc/task/1")
    #expect(first.timestamp.timeIntervalSince1970 == 100)
    #expect(first.aggResourceUsage.cpu.measuredFields == [.throttledPeriods, .throttledTime])
    #expect(
      first.aggResourceUsage.memory.measuredFields == [
        .rss, .cache, .maxUsage, .kernelUsage, .kernelMaxUsage, .usage, .swap,
      ])
    // 500 ms later: 250 ms of CPU (200 user, 50 system) = 50% of one core.
    sample.cpuTotalNanos = 1_250_000_000
    sample.cpuUserNanos = 1_000_000_000
    sample.cpuSystemNanos = 250_000_000
    sample.throttledPeriods = 3
    sample.throttledNanos = 7_000_000
    let second = builder.build(sample, now: 10_500_000_000)
    let cpu = second.aggResourceUsage.cpu
    #expect(cpu.measuredFields == [.throttledPeriods, .throttledTime, .percent, .totalTicks, .userMode, .systemMode])
    #expect(abs(cpu.percent - 50) < 1e-9)
    #expect(abs(cpu.userMode - 40) < 1e-9)
    #expect(abs(cpu.systemMode - 10) < 1e-9)
    #expect(cpu.throttledPeriods == 3 && cpu.throttledTime == 7_000_000)
    let cores = Double(max(ProcessInfo.processInfo.activeProcessorCount, 1))
    #expect(abs(cpu.totalTicks - 0.5 * 8000 / cores) < 1e-9)
    // A counter that went backwards (a new cgroup) is not a negative percentage.
    sample.cpuTotalNanos = 10
    let third = builder.build(sample, now: 11_000_000_000)
    #expect(!third.aggResourceUsage.cpu.measuredFields.contains(.percent))
  }

  @Test func statsPeriods() {
    #expect(MiloDriver.statsPeriod(.zero) == .seconds(1))
    #expect(MiloDriver.statsPeriod(.milliseconds(500)) == .milliseconds(500))
    #expect(MiloDriver.statsPeriod(.milliseconds(1)) == .milliseconds(10))
  }
}
