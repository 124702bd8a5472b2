import Foundation
import MiloSupervisor
import MiloSys
import NomadHost
import NomadPlugin
import NomadProto
import Testing

/// Issue 2: Nomad loads milo. The real binary, launched exactly as go-plugin does.
@Suite(.serialized, .enabled(if: Fixtures.canRunContainers, "needs root, crun, a JDK and the milo binary"))
struct PluginProtocolTests {
  @Test func withoutTheMagicCookieItTellsAPersonAndExits() throws {
    let result = try Spawn.run([Fixtures.miloBinary], environment: ["PATH=/usr/bin:/bin"])
    #expect(WaitStatus(result.status).shellExitCode == 1)
    #expect(result.output.contains("This binary is a plugin"))
  }

  @Test func handshakePluginInfoAndSchemas() async throws {
    let plugin = try await PluginClient.launch(path: Fixtures.miloBinary)
    let handshake = plugin.process.handshake
    #expect(handshake.network == "unix")
    #expect(handshake.address.hasSuffix("/plugin.sock"))
    #expect(FileManager.default.fileExists(atPath: handshake.address))
    #expect(try await plugin.health() == .serving)

    let info = try await plugin.pluginInfo()
    #expect(info.type == .driver)
    #expect(info.name == "milo")
    #expect(info.pluginApiVersions == ["0.1.0"])
    #expect(info.pluginVersion == "0.1.0")

    let schema = try #require(try await plugin.configSchema())
    let pluginKeys = Set(schema.object.attributes.keys)
    #expect(
      pluginKeys == [
        "runtime", "runtime_path", "java_search_paths", "default_java_version", "default_java_home",
        "default_user", "log_buffer_bytes", "allow_caps", "state_dir", "pids_limit",
      ])
    #expect(schema.object.attributes["runtime"]?.default.default.literal.value == "\"crun\"")
    let taskSchema = try #require(try await plugin.taskConfigSchema())
    #expect(
      Set(taskSchema.object.attributes.keys) == [
        "jar_path", "class", "class_path", "jvm_options", "args", "java_version", "java_home", "cap_add", "work_dir",
        "pids_limit", "cpu_hard_limit", "cpu_cfs_period",
      ])
    #expect(taskSchema.object.attributes.values.allSatisfy { !$0.attr.required })

    let capabilities = try await plugin.capabilities()
    #expect(capabilities.sendSignals)
    #expect(capabilities.exec)
    #expect(capabilities.fsIsolation == .image)
    #expect(capabilities.networkIsolationModes == [.host, .group])

    await plugin.kill()
    #expect(!plugin.isRunning)
    #expect(!FileManager.default.fileExists(atPath: handshake.address))
    #expect(!FileManager.default.fileExists(atPath: (handshake.address as NSString).deletingLastPathComponent))
  }

  @Test func setConfigWithAndWithoutAgentConfig() async throws {
    let plugin = try await PluginClient.launch(path: Fixtures.miloBinary)
    defer { Task { await plugin.kill() } }
    let spec = try #require(try await plugin.configSchema())
    let stateDir = Fixtures.temporaryDirectory("setconfig") + "/state"
    let bytes = try ConfigEncoder.encodePluginConfig(["state_dir": .string(stateDir)], spec: spec)
    // Validation launch: no nomad_config, and no side effects.
    try await plugin.setConfig(msgpack: bytes, nomadConfig: nil)
    try await plugin.setConfig(msgpack: bytes, nomadConfig: nil)
    #expect(!FileManager.default.fileExists(atPath: stateDir))
    // The real instance.
    var agent = NomadConfigProto()
    agent.driver.clientMinPort = 14000
    agent.driver.clientMaxPort = 14512
    try await plugin.setConfig(msgpack: bytes, nomadConfig: agent)
    try await plugin.initDriver()
    // Empty config bytes mean defaults.
    try await plugin.setConfig(msgpack: [], nomadConfig: nil)
    await plugin.kill()
  }

  @Test(arguments: [
    (["runtime": MsgpackValue.string("docker")], "runtime: expected \"crun\" or \"runc\", got \"docker\""),
    (["log_buffer_bytes": MsgpackValue.string("lots")], "log_buffer_bytes"),
    (["state_dir": MsgpackValue.string("relative/dir")], "state_dir: expected an absolute path"),
    (["allow_caps": MsgpackValue.array([.string("cap_fly")])], "allow_caps: unknown capability \"fly\""),
    (["state_dir": MsgpackValue.string("/nonexistent-parent/milo")], "state_dir: the parent directory"),
  ])
  func invalidOptionsAreRejectedWithTheKeyNamed(config: [String: MsgpackValue], message: String) async throws {
    let plugin = try await PluginClient.launch(path: Fixtures.miloBinary)
    defer { Task { await plugin.kill() } }
    let spec = try #require(try await plugin.configSchema())
    // Encode as Nomad would; a wrong type never reaches the plugin through Nomad, so send it raw.
    var entries = Dictionary(uniqueKeysWithValues: spec.object.attributes.keys.map { ($0, MsgpackValue.nil) })
    entries.merge(config) { _, new in new }
    let bytes = try Cty.object(entries).encoded()
    let error = await #expect(throws: PluginCallError.self) {
      try await plugin.setConfig(msgpack: bytes, nomadConfig: nil)
    }
    let text = "\(error.map { "\($0)" } ?? "")"
    #expect(text.contains("code = InvalidArgument"), "\(text)")
    #expect(text.contains(message), "\(text)")
    #expect(plugin.isRunning, "the plugin must not crash on bad input")
  }

  @Test func fingerprintIsHealthyOnThisMachine() async throws {
    try await withMiloHarness("fp-healthy") { harness in
      let manager = try await harness.driver
      let info = try #require(manager.fingerprints.latest)
      #expect(info.healthy, "\(info.healthDescription)")
      #expect(info.healthDescription == "Healthy")
      #expect(info.attributes["driver.milo"] == "true")
      #expect(info.attributes["driver.milo.version"] == "0.1.0")
      #expect(info.attributes["driver.milo.runtime"] == "crun")
      #expect(info.attributes["driver.milo.runtime.version"]?.isEmpty == false)
      #expect(info.attributes["driver.milo.java.version"]?.hasPrefix("17") == true)
      #expect(info.attributes["driver.milo.java.home"]?.hasPrefix("/usr/lib/jvm/") == true)
      #expect(info.attributes["driver.milo.java.vendor"]?.isEmpty == false)
      #expect(info.attributes["driver.milo.java.runtime"]?.isEmpty == false)
      #expect(["v1", "v2", "hybrid"].contains(info.attributes["driver.milo.cgroup"] ?? ""))
      // The stream stays open: Nomad must not need to reopen it.
      try await Task.sleep(for: .seconds(1))
      #expect(await manager.fingerprintStreamOpens == 1)
      #expect(await manager.taskEventStreamOpens == 1)
    }
  }

  @Test(arguments: [
    ("default_java_home", "/opt/no-such-jdk", "default_java_home /opt/no-such-jdk is not one of the Java runtimes"),
    ("runtime_path", "/opt/no-such/crun", "runtime_path /opt/no-such/crun does not exist"),
  ])
  func fingerprintIsUnhealthyWithAUsefulDescription(key: String, value: String, expected: String) async throws {
    let plugin = try await PluginClient.launch(path: Fixtures.miloBinary)
    defer { Task { await plugin.kill() } }
    let spec = try #require(try await plugin.configSchema())
    let bytes = try ConfigEncoder.encodePluginConfig(
      [key: .string(value), "state_dir": .string("/run/milo-it-unhealthy")], spec: spec)
    try await plugin.setConfig(msgpack: bytes, nomadConfig: NomadConfigProto())
    var iterator = plugin.fingerprint().makeAsyncIterator()
    let first = try #require(try await iterator.next())
    #expect(first.health == .unhealthy)
    #expect(first.healthDescription.contains(expected), "\(first.healthDescription)")
    #expect(first.attributes["driver.milo"]?.boolVal == false)
  }

  @Test func nothingIsLeftAfterShutdownOrSIGKILL() async throws {
    for graceful in [true, false] {
      let plugin = try await PluginClient.launch(path: Fixtures.miloBinary)
      let socketDir = (plugin.process.handshake.address as NSString).deletingLastPathComponent
      let pid = plugin.pid
      if graceful {
        await plugin.kill()
        #expect(!FileManager.default.fileExists(atPath: socketDir), "socket dir left after Shutdown")
      } else {
        await plugin.sigkill()
        // A killed plugin cannot clean up; the next instance removes what it left.
        let next = try await PluginClient.launch(path: Fixtures.miloBinary)
        #expect(!FileManager.default.fileExists(atPath: socketDir), "stale socket dir not removed at start")
        await next.kill()
      }
      #expect(kill(pid, 0) != 0, "plugin process \(pid) still alive")
    }
  }
}
