/// The resources Nomad gives a task (Go: `drivers.Resources`).
public struct Resources: Sendable, Equatable {
  /// What the scheduler allocated (Go: `NomadResources`).
  public var allocatedResources = AllocatedTaskResources()
  /// The Linux limits Nomad computed from the allocation.
  public var linuxResources = LinuxResources()

  public init() {}
}

/// The scheduler's allocation for a task.
public struct AllocatedTaskResources: Sendable, Equatable {
  public var cpu = AllocatedCPU()
  public var memory = AllocatedMemory()

  public init() {}
}

public struct AllocatedCPU: Sendable, Equatable {
  public var cpuShares: Int64 = 0

  public init() {}
}

public struct AllocatedMemory: Sendable, Equatable {
  /// `memory` in MiB.
  public var memoryMb: Int64 = 0
  /// `memory_max` in MiB (0: none).
  public var memoryMaxMb: Int64 = 0

  public init() {}
}

/// Linux limits for a task (Go: `drivers.LinuxResources`); 0 or empty means "not set".
public struct LinuxResources: Sendable, Equatable {
  public var cpuPeriod: Int64 = 0
  public var cpuQuota: Int64 = 0
  public var cpuShares: Int64 = 0
  public var memoryLimitBytes: Int64 = 0
  public var oomScoreAdj: Int64 = 0
  /// The reserved cores, in cpuset list form (`0-2,5`).
  public var cpusetCpus: String = ""
  /// The cpuset cgroup Nomad made for the task.
  public var cpusetCgroupPath: String = ""
  /// The task's share of the node's CPU, 0...1.
  public var percentTicks: Double = 0

  public init() {}
}
