import NomadPlugin
import Testing

@testable import Milo

/// Config bytes as Nomad sends them: a cty object with every schema attribute (null when unset).
private func encode(_ values: [String: MsgpackValue]) throws -> [UInt8] {
  try MsgpackEncoder().encode(Cty.object(attributeNames: PluginConfig.schema.names, values: values))
}

/// The DriverError `PluginConfig.decode` throws for `values`.
private func decodeError(
  _ values: [String: MsgpackValue], sourceLocation: SourceLocation = #_sourceLocation
) throws -> DriverError? {
  let bytes = try encode(values)
  return caught(DriverError.self, sourceLocation: sourceLocation) { try PluginConfig.decode(bytes) }
}

@Suite struct PluginConfigTests {
  @Test func defaultsFromEmptyBytes() throws {
    let config = try PluginConfig.decode([])
    #expect(config == PluginConfig())
    #expect(config.runtime == "crun")
    #expect(config.runtimePath == "")
    #expect(config.javaSearchPaths == ["/usr/lib/jvm", "/opt/java"])
    #expect(config.defaultJavaVersion == "")
    #expect(config.defaultJavaHome == "")
    #expect(config.defaultUser == "nobody")
    #expect(config.logBufferBytes == 4_194_304)
    #expect(
      config.allowCaps == [
        "audit_write", "chown", "dac_override", "fowner", "fsetid", "kill", "mknod", "net_bind_service",
        "setfcap", "setgid", "setpcap", "setuid", "sys_chroot",
      ])
    #expect(config.stateDir == "/run/milo")
  }

  @Test func allNullObjectGivesDefaults() throws {
    #expect(try PluginConfig.decode(encode([:])) == PluginConfig())
  }

  @Test func schemaDefaultsAsNomadSendsThemGiveDefaults() throws {
    let bytes = try encode([
      "runtime": "crun", "runtime_path": "", "java_search_paths": Cty.stringList(["/usr/lib/jvm", "/opt/java"]),
      "default_java_version": "", "default_java_home": "", "default_user": "nobody",
      "log_buffer_bytes": Cty.number(Int64(4_194_304)),
      "allow_caps": Cty.stringList(PluginConfig.defaultAllowedCaps), "state_dir": "/run/milo",
    ])
    #expect(try PluginConfig.decode(bytes) == PluginConfig())
  }

  @Test func everyOptionRoundTrips() throws {
    let bytes = try encode([
      "runtime": "runc", "runtime_path": "/usr/local/bin/runc",
      "java_search_paths": Cty.stringList(["/srv/jdks"]), "default_java_version": "21",
      "default_java_home": "/srv/jdks/temurin-21", "default_user": "app",
      "log_buffer_bytes": Cty.number(Int64(65536)),
      "allow_caps": Cty.stringList(["CAP_NET_RAW", "Sys_Admin", "kill"]), "state_dir": "/var/lib/milo",
      "pids_limit": Cty.number(Int64(2048)),
    ])
    var expected = PluginConfig()
    expected.runtime = "runc"
    expected.runtimePath = "/usr/local/bin/runc"
    expected.javaSearchPaths = ["/srv/jdks"]
    expected.defaultJavaVersion = "21"
    expected.defaultJavaHome = "/srv/jdks/temurin-21"
    expected.defaultUser = "app"
    expected.logBufferBytes = 65536
    expected.allowCaps = ["net_raw", "sys_admin", "kill"]
    expected.stateDir = "/var/lib/milo"
    expected.pidsLimit = 2048
    #expect(try PluginConfig.decode(bytes) == expected)
  }

  @Test func emptyListsAreKept() throws {
    let config = try PluginConfig.decode(
      encode(["java_search_paths": Cty.stringList([]), "allow_caps": Cty.stringList([])]))
    #expect(config.javaSearchPaths == [])
    #expect(config.allowCaps == [])
  }

  @Test func integralFloatIsANumberOfBytes() throws {
    let config = try PluginConfig.decode(encode(["log_buffer_bytes": .float(131072)]))
    #expect(config.logBufferBytes == 131072)
  }

  @Test(
    arguments: [
      ("runtime", MsgpackValue.int(5), "invalid plugin config: runtime: expected a string, got a number"),
      ("runtime_path", .bool(true), "invalid plugin config: runtime_path: expected a string, got a bool"),
      (
        "java_search_paths", .string("/usr/lib/jvm"),
        "invalid plugin config: java_search_paths: expected a list, got a string"
      ),
      (
        "java_search_paths", .array([.string("/a"), .int(1)]),
        "invalid plugin config: java_search_paths[1]: expected a string, got a number"
      ),
      (
        "default_java_version", .int(17), "invalid plugin config: default_java_version: expected a string, got a number"
      ),
      ("default_java_home", .array([]), "invalid plugin config: default_java_home: expected a string, got a list"),
      ("default_user", .int(0), "invalid plugin config: default_user: expected a string, got a number"),
      (
        "log_buffer_bytes", .string("lots"),
        "invalid plugin config: log_buffer_bytes: expected an integer, got a string"
      ),
      (
        "log_buffer_bytes", .float(70000.5),
        "invalid plugin config: log_buffer_bytes: expected an integer, got 70000.5 (not a whole number)"
      ),
      ("allow_caps", .string("net_raw"), "invalid plugin config: allow_caps: expected a list, got a string"),
      ("state_dir", .map([]), "invalid plugin config: state_dir: expected a string, got a map"),
    ] as [(String, MsgpackValue, String)])
  func wrongTypeNamesTheKey(key: String, value: MsgpackValue, message: String) throws {
    let error = try decodeError([key: value])
    #expect(error?.code == .invalidArgument)
    #expect(error?.message == message)
    #expect(error?.recoverable == false)
  }

  @Test func unknownValueIsRejected() throws {
    let error = try decodeError(["runtime": Cty.unknown])
    #expect(error?.message == "invalid plugin config: runtime: expected a string, got an unknown value")
  }

  @Test func unknownRuntime() throws {
    let error = try decodeError(["runtime": "docker"])
    #expect(error?.code == .invalidArgument)
    #expect(
      error?.message
        == "runtime: expected \"crun\" or \"runc\", got \"docker\". Set runtime to one of them,"
        + " and runtime_path if the binary is not on PATH.")
  }

  @Test func relativeStateDir() throws {
    let error = try decodeError(["state_dir": "run/milo"])
    #expect(error?.code == .invalidArgument)
    #expect(error?.message == "state_dir: expected an absolute path, got \"run/milo\"")
  }

  @Test func emptyStateDir() throws {
    #expect(try decodeError(["state_dir": ""])?.message == "state_dir: expected an absolute path, got \"\"")
  }

  @Test func relativeDefaultJavaHome() throws {
    let error = try decodeError(["default_java_home": "jdk-17"])
    #expect(error?.message == "default_java_home: expected an absolute path, got \"jdk-17\"")
  }

  @Test(arguments: [65535, 0, -1, (1 << 30) + 1, Int64.max] as [Int64])
  func logBufferBytesOutOfRange(bytes: Int64) throws {
    let error = try decodeError(["log_buffer_bytes": .int(bytes)])
    #expect(error?.code == .invalidArgument)
    #expect(
      error?.message
        == "log_buffer_bytes: expected a number of bytes between 65536 and 1073741824, got \(bytes)")
  }

  @Test(arguments: [65536, 1 << 20, 1 << 30] as [Int64])
  func logBufferBytesInRange(bytes: Int64) throws {
    #expect(try PluginConfig.decode(encode(["log_buffer_bytes": .int(bytes)])).logBufferBytes == Int(bytes))
  }

  @Test func negativePidsLimit() throws {
    let error = #expect(throws: DriverError.self) {
      try PluginConfig.decode(try encode(["pids_limit": Cty.number(Int64(-1))]))
    }
    #expect(error?.message == "pids_limit: expected 0 (unlimited) or a positive number of processes, got -1")
  }

  @Test func unknownCapability() throws {
    let error = try decodeError(["allow_caps": Cty.stringList(["net_raw", "CAP_FLY"])])
    #expect(error?.code == .invalidArgument)
    #expect(
      error?.message
        == "allow_caps: unknown capability \"fly\"; expected names like \"net_bind_service\" or \"CAP_NET_BIND_SERVICE\""
    )
  }

  @Test func notMsgpack() {
    let error = caught(DriverError.self) { try PluginConfig.decode([0xC1]) }
    #expect(error?.code == .invalidArgument)
    #expect(error?.message == "invalid plugin config: msgpack: invalid type byte 0xc1 (at byte offset 0)")
  }

  @Test func notAnObject() throws {
    let bytes = try MsgpackEncoder().encode(.string("crun"))
    let error = caught(DriverError.self) { try PluginConfig.decode(bytes) }
    #expect(error?.message == "invalid plugin config: expected an object, got a string")
  }

  @Test func schemaNamesAndDefaultsMatchTheStruct() {
    let schema = PluginConfig.schema
    #expect(
      schema.names == [
        "runtime", "runtime_path", "java_search_paths", "default_java_version", "default_java_home",
        "default_user", "log_buffer_bytes", "allow_caps", "state_dir", "pids_limit",
      ])
    let defaults = Dictionary(uniqueKeysWithValues: schema.attributes.map { ($0.name, $0.defaultValue) })
    #expect(defaults["runtime"] == "\"crun\"")
    #expect(defaults["runtime_path"] == "\"\"")
    #expect(defaults["java_search_paths"] == "[\"/usr/lib/jvm\", \"/opt/java\"]")
    #expect(defaults["default_user"] == "\"nobody\"")
    #expect(defaults["log_buffer_bytes"] == "\(PluginConfig().logBufferBytes)")
    #expect(defaults["state_dir"] == "\"\(PluginConfig().stateDir)\"")
    #expect(defaults["pids_limit"] == "0")
    #expect(
      defaults["allow_caps"]
        == "[\"audit_write\", \"chown\", \"dac_override\", \"fowner\", \"fsetid\", \"kill\", \"mknod\","
        + " \"net_bind_service\", \"setfcap\", \"setgid\", \"setpcap\", \"setuid\", \"sys_chroot\"]")
    #expect(schema.attributes.allSatisfy { !$0.required && !$0.help.isEmpty })
    #expect(
      schema.attributes.map(\.type) == [
        "string", "string", "list(string)", "string", "string", "string", "number", "list(string)", "string",
        "number",
      ])
  }
}

@Suite struct CapabilitiesTests {
  @Test(arguments: [
    ("CAP_NET_RAW", "net_raw"), ("cap_sys_admin", "sys_admin"), ("Kill", "kill"),
    ("net_bind_service", "net_bind_service"),
    ("CAPS", "caps"),
  ])
  func normalize(input: String, expected: String) {
    #expect(Capabilities.normalize(input) == expected)
  }

  @Test func ociName() {
    #expect(Capabilities.ociName("net_bind_service") == "CAP_NET_BIND_SERVICE")
  }

  @Test func knownSetCoversLinux() {
    #expect(Capabilities.known.count == 41)
    #expect(Set(PluginConfig.defaultAllowedCaps).isSubset(of: Capabilities.known))
    #expect(Capabilities.known.contains("checkpoint_restore"))
    #expect(!Capabilities.known.contains("cap_chown"))
  }
}
