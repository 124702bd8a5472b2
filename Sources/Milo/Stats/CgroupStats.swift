import MiloSupervisor
import MiloSys

/// Raw counters read from a container's cgroup, on v1 (and hybrid) or v2.
public struct CgroupSample: Sendable, Equatable {
  public var rss: UInt64?
  public var cache: UInt64?
  public var usage: UInt64?
  public var maxUsage: UInt64?
  public var kernelUsage: UInt64?
  public var kernelMaxUsage: UInt64?
  public var swap: UInt64?
  /// Cumulative CPU time in nanoseconds: total, user and system.
  public var cpuTotalNanos: UInt64?
  public var cpuUserNanos: UInt64?
  public var cpuSystemNanos: UInt64?
  public var throttledPeriods: UInt64?
  public var throttledNanos: UInt64?
}

/// Reads a container's cgroup counters.
public struct CgroupStats: Sendable {
  public var mode: CgroupMode
  /// The container's `cgroupsPath` (e.g. `/milo/<id>`).
  public var path: String
  public var root: String

  public init(mode: CgroupMode, path: String, root: String = "/sys/fs/cgroup") {
    self.mode = mode
    self.path = path
    self.root = root
  }

  /// One sample; nil when the cgroup no longer exists.
  public func sample() -> CgroupSample? {
    switch mode {
    case .v2: sampleV2()
    case .v1, .hybrid: sampleV1()
    case .none: nil
    }
  }

  func sampleV1() -> CgroupSample? {
    let memory = root + "/memory" + path
    guard let stat = Self.keyed(memory + "/memory.stat") else { return nil }
    var sample = CgroupSample()
    // The hierarchical totals include sub-cgroups (equal to the plain counters for a leaf).
    sample.rss = stat["total_rss"] ?? stat["rss"]
    sample.cache = stat["total_cache"] ?? stat["cache"]
    // Present only when the kernel accounts swap (memory.memsw.*).
    sample.swap = stat["total_swap"] ?? stat["swap"]
    sample.usage = Self.number(memory + "/memory.usage_in_bytes")
    sample.maxUsage = Self.number(memory + "/memory.max_usage_in_bytes")
    sample.kernelUsage = Self.number(memory + "/memory.kmem.usage_in_bytes")
    sample.kernelMaxUsage = Self.number(memory + "/memory.kmem.max_usage_in_bytes")
    let cpuacct = root + "/cpuacct" + path
    sample.cpuTotalNanos = Self.number(cpuacct + "/cpuacct.usage")
    sample.cpuUserNanos = Self.number(cpuacct + "/cpuacct.usage_user")
    sample.cpuSystemNanos = Self.number(cpuacct + "/cpuacct.usage_sys")
    if let cpu = Self.keyed(root + "/cpu" + path + "/cpu.stat") {
      sample.throttledPeriods = cpu["nr_throttled"]
      sample.throttledNanos = cpu["throttled_time"]
    }
    return sample
  }

  func sampleV2() -> CgroupSample? {
    let dir = root + path
    guard let stat = Self.keyed(dir + "/memory.stat") else { return nil }
    var sample = CgroupSample()
    sample.rss = stat["anon"]
    sample.cache = stat["file"]
    sample.usage = Self.number(dir + "/memory.current")
    // memory.peak exists from Linux 5.19, memory.stat's kernel from 5.18, swap with CONFIG_MEMCG_SWAP.
    sample.maxUsage = Self.number(dir + "/memory.peak")
    sample.kernelUsage = stat["kernel"]
    sample.swap = Self.number(dir + "/memory.swap.current")
    // usage/user/system are always there; the throttling counters only with the cpu controller.
    if let cpu = Self.keyed(dir + "/cpu.stat") {
      sample.cpuTotalNanos = cpu["usage_usec"].map { $0 * 1000 }
      sample.cpuUserNanos = cpu["user_usec"].map { $0 * 1000 }
      sample.cpuSystemNanos = cpu["system_usec"].map { $0 * 1000 }
      sample.throttledPeriods = cpu["nr_throttled"]
      sample.throttledNanos = cpu["throttled_usec"].map { $0 * 1000 }
    }
    return sample
  }

  /// Parses `key value` lines.
  static func keyed(_ file: String) -> [String: UInt64]? {
    guard let text = Posix.readText(file) else { return nil }
    var result: [String: UInt64] = [:]
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: " ")
      if parts.count == 2, let value = UInt64(parts[1]) { result[String(parts[0])] = value }
    }
    return result
  }

  static func number(_ file: String) -> UInt64? {
    Posix.readText(file).flatMap { UInt64($0.filter { !$0.isWhitespace }) }
  }
}
