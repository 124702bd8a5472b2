import NomadProto

// Short names for the protobuf messages NomadHost's API uses.

/// `hashicorp.nomad.plugins.base.proto.PluginInfoResponse`.
public typealias PluginInfoResponse = Hashicorp_Nomad_Plugins_Base_Proto_PluginInfoResponse
/// `hashicorp.nomad.plugins.base.proto.NomadConfig`.
public typealias NomadConfigProto = Hashicorp_Nomad_Plugins_Base_Proto_NomadConfig
/// `hashicorp.nomad.plugins.base.proto.ClientTopology`.
public typealias ClientTopologyProto = Hashicorp_Nomad_Plugins_Base_Proto_ClientTopology
/// `hashicorp.nomad.plugins.drivers.proto.TaskConfig`.
public typealias TaskConfigProto = Hashicorp_Nomad_Plugins_Drivers_Proto_TaskConfig
/// `hashicorp.nomad.plugins.drivers.proto.TaskHandle`.
public typealias TaskHandleProto = Hashicorp_Nomad_Plugins_Drivers_Proto_TaskHandle
/// `hashicorp.nomad.plugins.drivers.proto.ExitResult`.
public typealias ExitResultProto = Hashicorp_Nomad_Plugins_Drivers_Proto_ExitResult
/// `hashicorp.nomad.plugins.drivers.proto.StartTaskResponse`.
public typealias StartTaskResponseProto = Hashicorp_Nomad_Plugins_Drivers_Proto_StartTaskResponse
/// `hashicorp.nomad.plugins.drivers.proto.WaitTaskResponse`.
public typealias WaitTaskResponseProto = Hashicorp_Nomad_Plugins_Drivers_Proto_WaitTaskResponse
/// `hashicorp.nomad.plugins.drivers.proto.DriverCapabilities`.
public typealias DriverCapabilitiesProto = Hashicorp_Nomad_Plugins_Drivers_Proto_DriverCapabilities
/// `hashicorp.nomad.plugins.drivers.proto.FingerprintResponse`.
public typealias FingerprintResponseProto = Hashicorp_Nomad_Plugins_Drivers_Proto_FingerprintResponse
/// `hashicorp.nomad.plugins.drivers.proto.DriverTaskEvent`.
public typealias DriverTaskEventProto = Hashicorp_Nomad_Plugins_Drivers_Proto_DriverTaskEvent
/// `hashicorp.nomad.plugins.drivers.proto.TaskStats`.
public typealias TaskStatsProto = Hashicorp_Nomad_Plugins_Drivers_Proto_TaskStats
/// `hashicorp.nomad.plugins.drivers.proto.InspectTaskResponse`.
public typealias InspectTaskResponseProto = Hashicorp_Nomad_Plugins_Drivers_Proto_InspectTaskResponse
/// `hashicorp.nomad.plugins.drivers.proto.ExecTaskResponse`.
public typealias ExecTaskResponseProto = Hashicorp_Nomad_Plugins_Drivers_Proto_ExecTaskResponse
/// `hashicorp.nomad.plugins.drivers.proto.NetworkIsolationSpec`.
public typealias NetworkIsolationSpecProto = Hashicorp_Nomad_Plugins_Drivers_Proto_NetworkIsolationSpec
/// `hashicorp.nomad.plugins.drivers.proto.CreateNetworkResponse`.
public typealias CreateNetworkResponseProto = Hashicorp_Nomad_Plugins_Drivers_Proto_CreateNetworkResponse
/// `hashicorp.nomad.plugins.shared.hclspec.Spec`.
public typealias HCLSpecProto = Hashicorp_Nomad_Plugins_Shared_Hclspec_Spec
