import Foundation
import MiloSupervisor
import MiloSys
import NomadPlugin

/// Turns successive cgroup samples into Nomad's `TaskStats`, as Nomad's executor does: CPU
/// percentages over the interval, ticks as a share of the node's total compute (MHz).
public struct TaskStatsBuilder: Sendable {
  public var taskID: String
  /// The node's total compute in MHz (sum of all cores' clock), for `total_ticks`.
  public var totalComputeMHz: Double
  private var previous: (sample: CgroupSample, at: UInt64)?

  public init(taskID: String, totalComputeMHz: Double) {
    self.taskID = taskID
    self.totalComputeMHz = totalComputeMHz
  }

  /// Builds the stats for `sample` taken at monotonic time `now` (nanoseconds).
  public mutating func build(_ sample: CgroupSample, now: UInt64, wallClock: Date = Date()) -> TaskStats {
    var memory = MemoryUsage()
    var memoryFields: [MemoryUsage.Fields] = []
    if let v = sample.rss { memory.rss = v; memoryFields.append(.rss) }
    if let v = sample.cache { memory.cache = v; memoryFields.append(.cache) }
    if let v = sample.maxUsage { memory.maxUsage = v; memoryFields.append(.maxUsage) }
    if let v = sample.kernelUsage { memory.kernelUsage = v; memoryFields.append(.kernelUsage) }
    if let v = sample.kernelMaxUsage { memory.kernelMaxUsage = v; memoryFields.append(.kernelMaxUsage) }
    if let v = sample.usage { memory.usage = v; memoryFields.append(.usage) }
    if let v = sample.swap { memory.swap = v; memoryFields.append(.swap) }
    memory.measuredFields = memoryFields

    var cpu = CPUUsage()
    var cpuFields: [CPUUsage.Fields] = []
    if let v = sample.throttledPeriods { cpu.throttledPeriods = v; cpuFields.append(.throttledPeriods) }
    if let v = sample.throttledNanos { cpu.throttledTime = v; cpuFields.append(.throttledTime) }
    if let (last, at) = previous, now > at {
      let elapsed = Double(now - at)
      func percent(_ current: UInt64?, _ before: UInt64?) -> Double? {
        guard let current, let before, current >= before else { return nil }
        return Double(current - before) / elapsed * 100
      }
      if let total = percent(sample.cpuTotalNanos, last.cpuTotalNanos) {
        cpu.percent = total
        cpu.totalTicks = total / 100 * totalComputeMHz / Double(max(ProcessInfo.processInfo.activeProcessorCount, 1))
        cpuFields += [.percent, .totalTicks]
      }
      if let user = percent(sample.cpuUserNanos, last.cpuUserNanos) {
        cpu.userMode = user
        cpuFields.append(.userMode)
      }
      if let system = percent(sample.cpuSystemNanos, last.cpuSystemNanos) {
        cpu.systemMode = system
        cpuFields.append(.systemMode)
      }
    }
    cpu.measuredFields = cpuFields
    previous = (sample, now)

    var usage = ResourceUsage()
    usage.memory = memory
    usage.cpu = cpu
    var stats = TaskStats()
    stats.id = taskID
    stats.timestamp = wallClock
    stats.aggResourceUsage = usage
    return stats
  }

  /// The node's total compute: the sum of `cpu MHz` over /proc/cpuinfo.
  public static func nodeComputeMHz() -> Double {
    guard let text = Posix.readText("/proc/cpuinfo") else { return 0 }
    var total = 0.0
    for line in text.split(separator: "\n") where line.hasPrefix("cpu MHz") {
      if let value = line.split(separator: ":").last.flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }) {
        total += value
      }
    }
    return total
  }
}
