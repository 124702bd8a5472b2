import Foundation

/// A task's resource usage at one moment (Go: `drivers.TaskResourceUsage`).
public struct TaskStats: Sendable, Equatable {
  /// The task id.
  public var id: String = ""
  /// When it was measured.
  public var timestamp = Date(timeIntervalSince1970: 0)
  /// The task as a whole.
  public var aggResourceUsage = ResourceUsage()

  public init() {}
}

/// Memory and CPU usage (Go: `cstructs.ResourceUsage`).
public struct ResourceUsage: Sendable, Equatable {
  public var memory = MemoryUsage()
  public var cpu = CPUUsage()

  public init() {}
}

/// Memory usage in bytes; `measuredFields` says which fields hold a measurement.
public struct MemoryUsage: Sendable, Equatable {
  public enum Fields: Sendable, Equatable, Hashable {
    case rss, cache, maxUsage, kernelUsage, kernelMaxUsage, usage, swap
  }
  public var rss: UInt64 = 0
  public var cache: UInt64 = 0
  public var maxUsage: UInt64 = 0
  public var kernelUsage: UInt64 = 0
  public var kernelMaxUsage: UInt64 = 0
  public var usage: UInt64 = 0
  public var swap: UInt64 = 0
  public var measuredFields: [Fields] = []

  public init() {}
}

/// CPU usage; `measuredFields` says which fields hold a measurement.
public struct CPUUsage: Sendable, Equatable {
  public enum Fields: Sendable, Equatable, Hashable {
    case systemMode, userMode, totalTicks, throttledPeriods, throttledTime, percent
  }
  public var systemMode: Double = 0
  public var userMode: Double = 0
  public var totalTicks: Double = 0
  public var throttledPeriods: UInt64 = 0
  public var throttledTime: UInt64 = 0
  public var percent: Double = 0
  public var measuredFields: [Fields] = []

  public init() {}
}
