import Foundation
import NomadProto

extension PluginClient {
  /// `BasePlugin.PluginInfo`.
  public func pluginInfo() async throws -> PluginInfoResponse {
    try await unary {
      try await base.pluginInfo(.init(), options: Self.callOptions)
    }
  }

  /// `BasePlugin.ConfigSchema`; nil when the plugin returns no spec.
  public func configSchema() async throws -> HCLSpecProto? {
    try await unary {
      let response = try await base.configSchema(.init(), options: Self.callOptions)
      return response.hasSpec ? response.spec : nil
    }
  }

  /// `BasePlugin.SetConfig` with go-cty msgpack bytes, optional agent config (`nomad_config`),
  /// and the negotiated API version ("0.1.0" for drivers).
  public func setConfig(
    msgpack: [UInt8], nomadConfig: NomadConfigProto?, apiVersion: String = DriverAPI.version
  ) async throws {
    var request = Hashicorp_Nomad_Plugins_Base_Proto_SetConfigRequest()
    request.msgpackConfig = Data(msgpack)
    if let nomadConfig { request.nomadConfig = nomadConfig }
    request.pluginApiVersion = apiVersion
    _ = try await unary {
      try await base.setConfig(request, options: Self.callOptions)
    }
  }
}

/// Constants of Nomad's driver plugin API.
public enum DriverAPI {
  /// `drivers.ApiVersion010`, the only driver API version Nomad supports.
  public static let version = "0.1.0"
}
