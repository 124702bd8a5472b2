import NomadProto

extension DriverCapabilities {
  var wire: Hashicorp_Nomad_Plugins_Drivers_Proto_DriverCapabilities {
    var wire = Hashicorp_Nomad_Plugins_Drivers_Proto_DriverCapabilities()
    wire.sendSignals = sendSignals
    wire.exec = exec
    wire.fsIsolation =
      switch fsIsolation {
      case .none: .none
      case .chroot: .chroot
      case .image: .image
      case .unveil: .unveil
      }
    wire.networkIsolationModes = networkIsolationModes.map(\.wire)
    wire.mustCreateNetwork = mustCreateNetwork
    wire.mountConfigs =
      switch mountConfigs {
      case .unknown: .unknownMounts
      case .anyMounts: .anyMounts
      case .noMounts: .noMounts
      }
    wire.disableLogCollection = disableLogCollection
    wire.dynamicWorkloadUsers = dynamicWorkloadUsers
    return wire
  }
}

extension AgentConfig {
  init(wire: Hashicorp_Nomad_Plugins_Base_Proto_NomadConfig) {
    self.init()
    clientMinPort = wire.driver.clientMinPort
    clientMaxPort = wire.driver.clientMaxPort
  }
}
