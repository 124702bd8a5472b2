import GRPCCore
import NomadProto

typealias BaseProto = Hashicorp_Nomad_Plugins_Base_Proto_BasePlugin

/// Serves `hashicorp.nomad.plugins.base.proto.BasePlugin` for a `NomadDriver`.
struct BasePluginService<Driver: NomadDriver>: BaseProto.SimpleServiceProtocol {
  let driver: Driver

  func pluginInfo(
    request: Hashicorp_Nomad_Plugins_Base_Proto_PluginInfoRequest, context: ServerContext
  ) async throws -> Hashicorp_Nomad_Plugins_Base_Proto_PluginInfoResponse {
    var response = Hashicorp_Nomad_Plugins_Base_Proto_PluginInfoResponse()
    response.type = .driver
    response.pluginApiVersions = ["0.1.0"]
    response.pluginVersion = driver.identity.version
    response.name = driver.identity.name
    return response
  }

  func configSchema(
    request: Hashicorp_Nomad_Plugins_Base_Proto_ConfigSchemaRequest, context: ServerContext
  ) async throws -> Hashicorp_Nomad_Plugins_Base_Proto_ConfigSchemaResponse {
    var response = Hashicorp_Nomad_Plugins_Base_Proto_ConfigSchemaResponse()
    response.spec = driver.configSchema.spec
    return response
  }

  func setConfig(
    request: Hashicorp_Nomad_Plugins_Base_Proto_SetConfigRequest, context: ServerContext
  ) async throws -> Hashicorp_Nomad_Plugins_Base_Proto_SetConfigResponse {
    do {
      try await driver.setConfig(
        msgpack: [UInt8](request.msgpackConfig),
        agentConfig: request.hasNomadConfig ? AgentConfig(wire: request.nomadConfig) : nil)
    } catch {
      throw error.asRPCError
    }
    return Hashicorp_Nomad_Plugins_Base_Proto_SetConfigResponse()
  }
}
