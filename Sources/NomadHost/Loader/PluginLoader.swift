import Foundation
import Logging
import NomadPlugin
import NomadProto

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// An agent `plugin "<name>" { args = [...]; config { ... } }` block, resolved to a binary.
public struct PluginSpec: Sendable {
  /// The executable.
  public var path: String
  /// `args`.
  public var arguments: [String]
  /// `config { }`; nil when the block has none.
  public var config: [String: MsgpackValue]?

  public init(path: String, arguments: [String] = [], config: [String: MsgpackValue]? = nil) {
    self.path = path
    self.arguments = arguments
    self.config = config
  }
}

/// A plugin after Nomad's fingerprint launch (and, once validated, its config).
public struct LoadedPlugin: Sendable {
  /// The binary and its arguments.
  public var spec: PluginSpec
  /// `PluginInfo` as returned.
  public var info: PluginInfoResponse
  /// `PluginInfo.name` (what jobs write in `driver = "..."`).
  public var name: String { info.name }
  /// "driver" or "device".
  public var type: String
  /// The parsed `plugin_version`.
  public var version: GoVersion
  /// The negotiated API version (the plugin's spelling of "0.1.0").
  public var apiVersion: String
  /// `ConfigSchema` (nil when the plugin has none).
  public var configSchema: HCLSpecProto?
  /// The agent config as go-cty msgpack, set by the validation launch (empty without a schema).
  public var msgpackConfig: [UInt8]
  /// The agent config as parsed, set by the validation launch.
  public var parsedConfig: CtyValue?

  /// Nomad's `PluginID.String()`: `"milo" (driver)`.
  public var id: String { "\(goQuote(name)) (\(type))" }
}

/// A plugin loading failure, with Nomad's text.
public struct PluginLoadError: Error, CustomStringConvertible, Sendable {
  public var description: String
  public init(_ description: String) { self.description = description }
}

/// Nomad's plugin loader (`helper/pluginutils/loader`): the fingerprint launch, the config
/// validation launch and `Dispense` (launch + `SetConfig`).
public enum PluginLoader {
  /// `scan()`: the executables in `directory` (sub-directories and non-executables are skipped
  /// with Nomad's warnings).
  public static func scan(directory: String, logger: Logger = Logger(label: "nomad-host.loader")) throws
    -> [String]
  {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
    else {
      logger.warning("skipping external plugins since plugin_dir doesn't exist")
      return []
    }
    let names: [String]
    do {
      names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    } catch {
      throw PluginLoadError("failed to read plugin directory \(goQuote(directory)): \(error)")
    }
    var plugins: [String] = []
    for name in names {
      let path = "\(directory)/\(name)"
      var info = stat()
      guard stat(path, &info) == 0 else {
        throw PluginLoadError("failed to stat file \(goQuote(path)): \(Syscall.errorText(errno))")
      }
      if info.st_mode & S_IFMT == S_IFDIR {
        logger.warning("skipping subdir in plugin folder", metadata: ["subdir": "\(path)"])
        continue
      }
      guard info.st_mode & 0o111 != 0 else {
        logger.warning("skipping un-executable file in plugin folder", metadata: ["file": "\(path)"])
        continue
      }
      plugins.append(path)
    }
    return plugins
  }

  /// Launch 1 (`fingerprintPlugin`): `PluginInfo` and `ConfigSchema`, then go-plugin `Kill`.
  /// Returns nil when the plugin's API versions do not overlap Nomad's (Nomad skips it with a
  /// warning).
  public static func fingerprint(
    _ spec: PluginSpec, options: PluginLaunchOptions = PluginLaunchOptions(),
    logger: Logger = Logger(label: "nomad-host.loader")
  ) async throws -> LoadedPlugin? {
    var launch = options
    launch.arguments = spec.arguments
    let client = try await PluginClient.launch(path: spec.path, options: launch, healthCheck: false)
    do {
      let result = try await fingerprint(spec, client: client, logger: logger)
      await client.kill()
      return result
    } catch {
      await client.kill()
      throw error
    }
  }

  private static func fingerprint(_ spec: PluginSpec, client: PluginClient, logger: Logger) async throws
    -> LoadedPlugin?
  {
    let info: PluginInfoResponse
    do {
      info = try await client.pluginInfo()
    } catch {
      throw PluginLoadError("failed to get plugin info for plugin \(goQuote(spec.path)): \(error)")
    }
    let type: String
    switch info.type {
    case .driver: type = "driver"
    case .device: type = "device"
    default:
      throw PluginLoadError(
        "failed to get plugin info for plugin \(goQuote(spec.path)): plugin is of unknown type: \"UNKNOWN\"")
    }
    let version: GoVersion
    do {
      version = try GoVersion(info.pluginVersion)
    } catch {
      throw PluginLoadError(
        "failed to parse plugin \(goQuote(info.name)) (\(spec.path)) version \(goQuote(info.pluginVersion)): \(error)")
    }
    let apiVersion: String?
    do {
      apiVersion = try selectAPIVersion(info, type: type)
    } catch {
      throw PluginLoadError(
        "failed to validate API versions [\(info.pluginApiVersions.joined(separator: " "))] for plugin "
          + "\(info.name) (\(spec.path)): \(error)")
    }
    guard let apiVersion else {
      logger.warning(
        "skipping plugin because supported API versions for plugin and Nomad do not overlap",
        metadata: ["plugin": "\(info.name)", "path": "\(spec.path)"])
      return nil
    }
    let schema: HCLSpecProto?
    do {
      schema = try await client.configSchema()
    } catch {
      throw PluginLoadError("failed to get plugin config schema for plugin \(goQuote(spec.path)): \(error)")
    }
    return LoadedPlugin(
      spec: spec, info: info, type: type, version: version, apiVersion: apiVersion, configSchema: schema,
      msgpackConfig: [], parsedConfig: nil)
  }

  /// `selectApiVersion`: the plugin's spelling of a version equal to one Nomad supports.
  static func selectAPIVersion(_ info: PluginInfoResponse, type: String) throws(ConfigError) -> String? {
    guard !info.pluginApiVersions.isEmpty else { throw ConfigError("plugin provided no compatible API versions") }
    var versions: [GoVersion] = []
    for text in info.pluginApiVersions {
      do {
        versions.append(try GoVersion(text))
      } catch {
        throw ConfigError("plugin provided invalid versions: \(error)")
      }
    }
    let supported: [String]
    switch type {
    case "driver", "device": supported = [DriverAPI.version]
    default: throw ConfigError("unsupported plugin type \(goQuote(type))")
    }
    for text in supported {
      guard let wanted = try? GoVersion(text) else { continue }
      if let match = versions.first(where: { $0.isEqual(to: wanted) }) { return match.original }
    }
    return nil
  }

  /// Launch 2 (`validatePluginConfig`): parse the agent config with the schema, then `Dispense`
  /// without `nomad_config` (one `SetConfig`), a second `SetConfig`, and go-plugin `Kill`.
  /// Skipped (no launch) when the plugin has no schema.
  public static func validateConfig(
    _ plugin: LoadedPlugin, options: PluginLaunchOptions = PluginLaunchOptions()
  ) async throws -> LoadedPlugin {
    var plugin = plugin
    guard let schema = plugin.configSchema else {
      if plugin.spec.config != nil { throw PluginLoadError("configuration not allowed but config passed") }
      return plugin
    }
    let value: CtyValue
    do {
      value = try ConfigEncoder.parsePluginConfig(plugin.spec.config, spec: schema)
    } catch {
      throw PluginLoadError(error.description)
    }
    plugin.parsedConfig = value
    plugin.msgpackConfig = ConfigEncoder.msgpack(value)
    let instance: PluginClient
    do {
      instance = try await dispense(plugin, nomadConfig: nil, options: options)
    } catch {
      throw PluginLoadError("failed to dispense plugin: \(error)")
    }
    do {
      try await instance.setConfig(msgpack: plugin.msgpackConfig, nomadConfig: nil, apiVersion: plugin.apiVersion)
    } catch {
      await instance.kill()
      throw PluginLoadError("setting config on plugin failed: \(error)")
    }
    await instance.kill()
    return plugin
  }

  /// `Dispense`: launch the plugin and `SetConfig` with the validated config and `nomadConfig`.
  public static func dispense(
    _ plugin: LoadedPlugin, nomadConfig: NomadConfigProto?, options: PluginLaunchOptions = PluginLaunchOptions()
  ) async throws -> PluginClient {
    var launch = options
    launch.arguments = plugin.spec.arguments
    let client: PluginClient
    do {
      client = try await PluginClient.launch(path: plugin.spec.path, options: launch, healthCheck: false)
    } catch {
      throw PluginLoadError("failed to launch plugin: \(error)")
    }
    do {
      try await client.setConfig(msgpack: plugin.msgpackConfig, nomadConfig: nomadConfig, apiVersion: plugin.apiVersion)
    } catch {
      await client.kill()
      throw PluginLoadError("setting config for plugin \(plugin.id) failed: \(error)")
    }
    return client
  }

  /// Launches 1 and 2 for one plugin.
  public static func load(
    _ spec: PluginSpec, options: PluginLaunchOptions = PluginLaunchOptions(),
    logger: Logger = Logger(label: "nomad-host.loader")
  ) async throws -> LoadedPlugin? {
    guard let plugin = try await fingerprint(spec, options: options, logger: logger) else { return nil }
    return try await validateConfig(plugin, options: options)
  }
}
