import ArgumentParser
import Foundation
import NomadHost

/// `nomad-host plugin-info <plugin>`: the fingerprint launch, plus one fingerprint.
struct PluginInfoCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "plugin-info",
    abstract: "Launch a plugin as Nomad's fingerprint launch does and print what it reports.")

  @Argument(help: "The plugin binary.")
  var plugin: String

  @Option(name: .customLong("arg"), help: "An argument for the plugin (repeatable).")
  var arguments: [String] = []

  @Option(help: "Echo plugin stderr lines at or above this level (off to silence).")
  var pluginLogLevel: String = "info"

  @Option(help: "Seconds to wait for the first fingerprint.")
  var timeout: Double = 30

  func run() async throws {
    var options = PluginLaunchOptions()
    options.onStderr = AgentLog.pluginEcho(
      pluginName: URL(fileURLWithPath: plugin).lastPathComponent, level: pluginLogLevel)
    let spec = PluginSpec(path: plugin, arguments: arguments)
    guard let loaded = try await PluginLoader.fingerprint(spec, options: options) else {
      Console.out("Plugin skipped: its API versions do not overlap Nomad's (\(DriverAPI.version))")
      throw ExitCode(1)
    }
    Console.out("PluginInfo:")
    Console.out("  name = \(loaded.name)")
    Console.out("  type = \(loaded.type)")
    Console.out("  plugin_version = \(loaded.info.pluginVersion)")
    Console.out("  plugin_api_versions = \(loaded.info.pluginApiVersions) (negotiated \(loaded.apiVersion))")
    Console.out("ConfigSchema:")
    printSchema(loaded.configSchema)

    // One more launch (as the real instance would) for the task schema, capabilities and a fingerprint.
    let client = try await PluginLoader.dispense(
      try await PluginLoader.validateConfig(loaded, options: options),
      nomadConfig: ClientConfig(dataDir: "/tmp").nomadConfig,
      options: options)
    defer { Task { await client.kill() } }
    try await client.initDriver()
    Console.out("TaskConfigSchema:")
    printSchema(try await client.taskConfigSchema())
    let capabilities = try await client.capabilities()
    Console.out("Capabilities:")
    let modes = capabilities.networkIsolationModes.map { "\($0)" }.joined(separator: ", ")
    Console.out("  send_signals = \(capabilities.sendSignals)")
    Console.out("  exec = \(capabilities.exec)")
    Console.out("  fs_isolation = \(capabilities.fsIsolation)")
    Console.out("  network_isolation_modes = [\(modes)]")
    Console.out("  must_create_network = \(capabilities.mustCreateNetwork)")
    Console.out("  mount_configs = \(capabilities.mountConfigs)")
    Console.out("  disable_log_collection = \(capabilities.disableLogCollection)")
    Console.out("Fingerprint:")
    let first = await firstFingerprint(client)
    if let first {
      let info = DriverInfo(first)
      Console.out("  health = \(first.health) (\(info.healthDescription))")
      for (key, value) in info.attributes.sorted(by: { $0.key < $1.key }) { Console.out("  \(key) = \(value)") }
    } else {
      Console.out("  (none within \(timeout)s)")
    }
    await client.kill()
  }

  private func firstFingerprint(_ client: PluginClient) async -> FingerprintResponseProto? {
    let stream = client.fingerprint()
    let timeout = self.timeout
    return await withTaskGroup(of: FingerprintResponseProto?.self) { group in
      group.addTask {
        do {
          for try await response in stream { return response }
        } catch {
          Console.err("fingerprint stream failed: \(error)")
        }
        return nil
      }
      group.addTask {
        try? await Task.sleep(for: .milliseconds(Int(timeout * 1000)))
        return nil
      }
      let result = await group.next() ?? nil
      group.cancelAll()
      return result
    }
  }

  private func printSchema(_ spec: HCLSpecProto?) {
    guard let spec else {
      Console.out("  (none)")
      return
    }
    do {
      let node = try HCLSpecNode(spec)
      guard case .object(let attributes) = node else {
        Console.out("  \(node)")
        return
      }
      for (name, child) in attributes.sorted(by: { $0.key < $1.key }) { Console.out("  \(name): \(describe(child))") }
    } catch {
      Console.out("  invalid schema: \(error)")
    }
  }

  private func describe(_ node: HCLSpecNode) -> String {
    switch node {
    case .attr(_, let type, let required): return "\(type)\(required ? " (required)" : "")"
    case .default(let primary, let fallback):
      if case .literal(let value) = fallback { return "\(describe(primary)) default \(value.msgpack)" }
      return describe(primary)
    case .block(let name, _, _): return "block \(name)"
    case .blockList(let name, _, _, _): return "block list \(name)"
    default: return "\(node)"
    }
  }
}
