import Foundation
import MiloSupervisor
import NomadPlugin
import Testing

@testable import Milo

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
    var task = TaskConfig()
    task.resources.linuxResources.cpuShares = 500
    let hard = CPUQuota(quota: 30_000, period: 100_000)
    #expect(BundleBuilder.resources(task, cpuQuota: hard).cpu?.quota == 30_000)
    #expect(BundleBuilder.resources(task, cpuQuota: hard).cpu?.period == 100_000)
    task.resources.linuxResources.cpuQuota = 20_000
    #expect(BundleBuilder.resources(task, cpuQuota: hard).cpu?.quota == 20_000)
  }
}
