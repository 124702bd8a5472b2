import NomadProto

extension Attribute {
  var wire: Hashicorp_Nomad_Plugins_Shared_Structs_Attribute {
    var wire = Hashicorp_Nomad_Plugins_Shared_Structs_Attribute()
    switch value {
    case .float(let v): wire.value = .floatVal(v)
    case .int(let v): wire.value = .intVal(v)
    case .string(let v): wire.value = .stringVal(v)
    case .bool(let v): wire.value = .boolVal(v)
    case nil: break
    }
    wire.unit = unit
    return wire
  }
}

extension Fingerprint {
  var wire: Hashicorp_Nomad_Plugins_Drivers_Proto_FingerprintResponse {
    var wire = Hashicorp_Nomad_Plugins_Drivers_Proto_FingerprintResponse()
    wire.health =
      switch health {
      case .undetected: .undetected
      case .unhealthy: .unhealthy
      case .healthy: .healthy
      }
    wire.healthDescription = healthDescription
    wire.attributes = attributes.mapValues(\.wire)
    return wire
  }
}
