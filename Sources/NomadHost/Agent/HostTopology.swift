import Foundation
import MiloSys
import NomadProto

/// The host's CPU/NUMA topology as Nomad's `numalib` detects it (simplified: sysfs and
/// /proc/cpuinfo), sent to drivers in `NomadDriverConfig.topology` and used for `PercentTicks`.
public struct HostTopology: Sendable, Equatable {
  /// One CPU core.
  public struct Core: Sendable, Equatable {
    public var id: UInt32
    public var socketID: UInt32
    public var nodeID: UInt32
    public var baseSpeedMHz: UInt64
    public var maxSpeedMHz: UInt64
    public var guessSpeedMHz: UInt64

    /// numalib `Core.MHz()`: base, else max, else guess.
    public var mhz: UInt64 { baseSpeedMHz > 0 ? baseSpeedMHz : maxSpeedMHz > 0 ? maxSpeedMHz : guessSpeedMHz }
  }

  public var nodeIDs: [UInt32]
  /// Row-major SLIT distances.
  public var distances: [[UInt32]]
  public var cores: [Core]

  public init(nodeIDs: [UInt32], distances: [[UInt32]], cores: [Core]) {
    self.nodeIDs = nodeIDs
    self.distances = distances
    self.cores = cores
  }

  /// `UsableCompute()`: the sum of the cores' MHz.
  public var usableComputeMHz: UInt64 { cores.reduce(0) { $0 + $1.mhz } }

  /// `nomadTopologyToProto`.
  public var proto: ClientTopologyProto {
    var topology = ClientTopologyProto()
    topology.nodeIds = nodeIDs
    var slit = Hashicorp_Nomad_Plugins_Base_Proto_ClientTopologySLIT()
    slit.dimension = UInt32(distances.count)
    slit.values = distances.flatMap { $0 }
    topology.distances = slit
    topology.cores = cores.map { core in
      var out = Hashicorp_Nomad_Plugins_Base_Proto_ClientTopologyCore()
      out.socketID = core.socketID
      out.nodeID = core.nodeID
      out.coreID = core.id
      out.coreGrade = .performance
      out.baseSpeed = core.baseSpeedMHz
      out.maxSpeed = core.maxSpeedMHz
      out.guessSpeed = core.guessSpeedMHz
      return out
    }
    return topology
  }

  /// Detects the topology from sysfs.
  public static func detect() -> HostTopology {
    let sys = "/sys/devices/system"
    let online = parseIDSet(read("\(sys)/cpu/online") ?? "0")
    var nodeOf: [UInt32: UInt32] = [:]
    var nodes: [UInt32] = []
    if let names = try? FileManager.default.contentsOfDirectory(atPath: "\(sys)/node") {
      for name in names where name.hasPrefix("node") {
        guard let id = UInt32(name.dropFirst(4)) else { continue }
        nodes.append(id)
        for cpu in parseIDSet(read("\(sys)/node/\(name)/cpulist") ?? "") { nodeOf[cpu] = id }
      }
    }
    nodes.sort()
    if nodes.isEmpty { nodes = [0] }
    var distances: [[UInt32]] = []
    for node in nodes {
      let row = (read("\(sys)/node/node\(node)/distance") ?? "10").split(separator: " ").compactMap { UInt32($0) }
      distances.append(row.count == nodes.count ? row : nodes.map { $0 == node ? 10 : 20 })
    }
    let guess = cpuinfoMHz()
    let cores = online.map { cpu -> Core in
      let base = "\(sys)/cpu/cpu\(cpu)"
      let socket = UInt32(read("\(base)/topology/physical_package_id") ?? "0") ?? 0
      let baseKHz = UInt64(read("\(base)/cpufreq/base_frequency") ?? "") ?? 0
      let maxKHz = UInt64(read("\(base)/cpufreq/cpuinfo_max_freq") ?? "") ?? 0
      return Core(
        id: cpu, socketID: socket, nodeID: nodeOf[cpu] ?? 0, baseSpeedMHz: baseKHz / 1000,
        maxSpeedMHz: maxKHz / 1000, guessSpeedMHz: guess[cpu] ?? guess.values.first ?? 1000)
    }
    return HostTopology(nodeIDs: nodes, distances: distances, cores: cores)
  }

  private static func read(_ path: String) -> String? {
    Posix.readText(path)?.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// "0-3,5" → [0, 1, 2, 3, 5].
  static func parseIDSet(_ text: String) -> [UInt32] {
    var ids: [UInt32] = []
    for part in text.split(separator: ",") {
      let bounds = part.split(separator: "-").compactMap { UInt32($0.trimmingCharacters(in: .whitespaces)) }
      if bounds.count == 2, bounds[0] <= bounds[1] {
        ids.append(contentsOf: bounds[0]...bounds[1])
      } else if bounds.count == 1 {
        ids.append(bounds[0])
      }
    }
    return ids
  }

  private static func cpuinfoMHz() -> [UInt32: UInt64] {
    guard let text = Posix.readText("/proc/cpuinfo") else { return [:] }
    var result: [UInt32: UInt64] = [:]
    var current: UInt32?
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
      guard parts.count == 2 else { continue }
      if parts[0] == "processor" { current = UInt32(parts[1]) }
      if parts[0] == "cpu MHz", let current, let mhz = Double(parts[1]) { result[current] = UInt64(mhz) }
    }
    return result
  }
}
