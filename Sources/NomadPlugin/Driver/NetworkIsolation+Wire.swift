import NomadProto

typealias WireNetworkIsolationSpec = Hashicorp_Nomad_Plugins_Drivers_Proto_NetworkIsolationSpec

extension NetworkIsolationSpec.Mode {
  init(wire: WireNetworkIsolationSpec.NetworkIsolationMode) {
    switch wire {
    case .host, .UNRECOGNIZED: self = .host
    case .group: self = .group
    case .task: self = .task
    case .none: self = .none
    }
  }

  var wire: WireNetworkIsolationSpec.NetworkIsolationMode {
    switch self {
    case .host: .host
    case .group: .group
    case .task: .task
    case .none: .none
    }
  }
}

extension NetworkIsolationSpec {
  init(wire: WireNetworkIsolationSpec) {
    self.init(mode: Mode(wire: wire.mode), path: wire.path, labels: wire.labels)
  }

  var wire: WireNetworkIsolationSpec {
    var wire = WireNetworkIsolationSpec()
    wire.mode = mode.wire
    wire.path = path
    wire.labels = labels
    return wire
  }
}

extension NetworkOverride {
  var wire: Hashicorp_Nomad_Plugins_Drivers_Proto_NetworkOverride {
    var wire = Hashicorp_Nomad_Plugins_Drivers_Proto_NetworkOverride()
    wire.portMap = portMap
    wire.addr = address
    wire.autoAdvertise = autoAdvertise
    return wire
  }
}
