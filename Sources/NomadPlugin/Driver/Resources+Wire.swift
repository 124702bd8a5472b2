import NomadProto

typealias WireResources = Hashicorp_Nomad_Plugins_Drivers_Proto_Resources

extension Resources {
  init(wire: WireResources) {
    self.init()
    let allocated = wire.allocatedResources
    allocatedResources.cpu.cpuShares = allocated.cpu.cpuShares
    allocatedResources.memory.memoryMb = allocated.memory.memoryMb
    allocatedResources.memory.memoryMaxMb = allocated.memory.memoryMaxMb
    let linux = wire.linuxResources
    linuxResources.cpuPeriod = linux.cpuPeriod
    linuxResources.cpuQuota = linux.cpuQuota
    linuxResources.cpuShares = linux.cpuShares
    linuxResources.memoryLimitBytes = linux.memoryLimitBytes
    linuxResources.oomScoreAdj = linux.oomScoreAdj
    linuxResources.cpusetCpus = linux.cpusetCpus
    linuxResources.cpusetCgroupPath = linux.cpusetCgroup
    linuxResources.percentTicks = linux.percentTicks
  }

  /// `base` (what Nomad sent: ports, networks) with the modelled fields as they are now.
  func wire(over base: WireResources) -> WireResources {
    var wire = base
    wire.allocatedResources.cpu.cpuShares = allocatedResources.cpu.cpuShares
    wire.allocatedResources.memory.memoryMb = allocatedResources.memory.memoryMb
    wire.allocatedResources.memory.memoryMaxMb = allocatedResources.memory.memoryMaxMb
    wire.linuxResources.cpuPeriod = linuxResources.cpuPeriod
    wire.linuxResources.cpuQuota = linuxResources.cpuQuota
    wire.linuxResources.cpuShares = linuxResources.cpuShares
    wire.linuxResources.memoryLimitBytes = linuxResources.memoryLimitBytes
    wire.linuxResources.oomScoreAdj = linuxResources.oomScoreAdj
    wire.linuxResources.cpusetCpus = linuxResources.cpusetCpus
    wire.linuxResources.cpusetCgroup = linuxResources.cpusetCgroupPath
    wire.linuxResources.percentTicks = linuxResources.percentTicks
    return wire
  }
}
