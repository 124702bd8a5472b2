import Foundation
import NomadProto

typealias WireTaskConfig = Hashicorp_Nomad_Plugins_Drivers_Proto_TaskConfig

extension TaskConfig {
  /// The model of what Nomad sent; fields it does not model are kept for `wire`.
  init(wire: WireTaskConfig) {
    self.init()
    id = wire.id
    name = wire.name
    allocID = wire.allocID
    jobName = wire.jobName
    jobID = wire.jobID
    taskGroupName = wire.taskGroupName
    env = wire.env
    deviceEnv = wire.deviceEnv
    resources = Resources(wire: wire.resources)
    mounts = wire.mounts.map { Mount(wire: $0) }
    devices = wire.devices.map { Device(wire: $0) }
    user = wire.user
    allocDir = wire.allocDir
    stdoutPath = wire.stdoutPath
    stderrPath = wire.stderrPath
    msgpackDriverConfig = [UInt8](wire.msgpackDriverConfig)
    networkIsolation = wire.hasNetworkIsolationSpec ? NetworkIsolationSpec(wire: wire.networkIsolationSpec) : nil
    unmodelled = wire
  }

  /// The message Nomad reads: what it sent, with the modelled fields as they are now.
  var wire: WireTaskConfig {
    var wire = unmodelled
    wire.id = id
    wire.name = name
    wire.allocID = allocID
    wire.jobName = jobName
    wire.jobID = jobID
    wire.taskGroupName = taskGroupName
    wire.env = env
    wire.deviceEnv = deviceEnv
    if resources != Resources(wire: wire.resources) { wire.resources = resources.wire(over: wire.resources) }
    if mounts != wire.mounts.map({ Mount(wire: $0) }) { wire.mounts = mounts.map(\.wire) }
    if devices != wire.devices.map({ Device(wire: $0) }) { wire.devices = devices.map(\.wire) }
    wire.user = user
    wire.allocDir = allocDir
    wire.stdoutPath = stdoutPath
    wire.stderrPath = stderrPath
    wire.msgpackDriverConfig = Data(msgpackDriverConfig)
    if let networkIsolation {
      wire.networkIsolationSpec = networkIsolation.wire
    } else {
      wire.clearNetworkIsolationSpec()
    }
    return wire
  }
}

extension Mount {
  init(wire: Hashicorp_Nomad_Plugins_Drivers_Proto_Mount) {
    self.init()
    taskPath = wire.taskPath
    hostPath = wire.hostPath
    readonly = wire.readonly
    propagationMode = wire.propagationMode
  }

  var wire: Hashicorp_Nomad_Plugins_Drivers_Proto_Mount {
    var wire = Hashicorp_Nomad_Plugins_Drivers_Proto_Mount()
    wire.taskPath = taskPath
    wire.hostPath = hostPath
    wire.readonly = readonly
    wire.propagationMode = propagationMode
    return wire
  }
}

extension Device {
  init(wire: Hashicorp_Nomad_Plugins_Drivers_Proto_Device) {
    self.init()
    taskPath = wire.taskPath
    hostPath = wire.hostPath
    cgroupPermissions = wire.cgroupPermissions
  }

  var wire: Hashicorp_Nomad_Plugins_Drivers_Proto_Device {
    var wire = Hashicorp_Nomad_Plugins_Drivers_Proto_Device()
    wire.taskPath = taskPath
    wire.hostPath = hostPath
    wire.cgroupPermissions = cgroupPermissions
    return wire
  }
}
