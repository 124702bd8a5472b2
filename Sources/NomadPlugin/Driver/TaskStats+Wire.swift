import NomadProto
import SwiftProtobuf

extension TaskStats {
  var wire: Hashicorp_Nomad_Plugins_Drivers_Proto_TaskStats {
    var memory = Hashicorp_Nomad_Plugins_Drivers_Proto_MemoryUsage()
    let m = aggResourceUsage.memory
    memory.rss = m.rss
    memory.cache = m.cache
    memory.maxUsage = m.maxUsage
    memory.kernelUsage = m.kernelUsage
    memory.kernelMaxUsage = m.kernelMaxUsage
    memory.usage = m.usage
    memory.swap = m.swap
    memory.measuredFields = m.measuredFields.map {
      switch $0 {
      case .rss: .rss
      case .cache: .cache
      case .maxUsage: .maxUsage
      case .kernelUsage: .kernelUsage
      case .kernelMaxUsage: .kernelMaxUsage
      case .usage: .usage
      case .swap: .swap
      }
    }
    var cpu = Hashicorp_Nomad_Plugins_Drivers_Proto_CPUUsage()
    let c = aggResourceUsage.cpu
    cpu.systemMode = c.systemMode
    cpu.userMode = c.userMode
    cpu.totalTicks = c.totalTicks
    cpu.throttledPeriods = c.throttledPeriods
    cpu.throttledTime = c.throttledTime
    cpu.percent = c.percent
    cpu.measuredFields = c.measuredFields.map {
      switch $0 {
      case .systemMode: .systemMode
      case .userMode: .userMode
      case .totalTicks: .totalTicks
      case .throttledPeriods: .throttledPeriods
      case .throttledTime: .throttledTime
      case .percent: .percent
      }
    }
    var usage = Hashicorp_Nomad_Plugins_Drivers_Proto_TaskResourceUsage()
    usage.memory = memory
    usage.cpu = cpu
    var wire = Hashicorp_Nomad_Plugins_Drivers_Proto_TaskStats()
    wire.id = id
    wire.timestamp = Google_Protobuf_Timestamp(date: timestamp)
    wire.aggResourceUsage = usage
    return wire
  }
}
