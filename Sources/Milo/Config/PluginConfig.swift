import NomadPlugin

/// The operator's options for milo: the agent's `plugin "milo" { config { ... } }` block.
public struct PluginConfig: Sendable, Equatable {
  /// The OCI runtime's name (`crun` or `runc`).
  public var runtime = "crun"
  /// The runtime binary; empty means "find `runtime` on PATH".
  public var runtimePath = ""
  /// Directories whose children are Java homes.
  public var javaSearchPaths = ["/usr/lib/jvm", "/opt/java"]
  /// The Java feature version tasks get by default (e.g. "17"); empty means the `java` on PATH,
  /// else the newest found.
  public var defaultJavaVersion = ""
  /// A Java home tasks get by default; overrides `defaultJavaVersion`.
  public var defaultJavaHome = ""
  /// The user tasks run as when the job sets none.
  public var defaultUser = "nobody"
  /// Bytes buffered per log stream while Nomad's log reader is slow or absent.
  public var logBufferBytes = 4 << 20
  /// Capabilities a task may add with `cap_add`.
  public var allowCaps = PluginConfig.defaultAllowedCaps
  /// Where milo keeps task state, OCI bundles and the runtime's state.
  public var stateDir = "/run/milo"
  /// The pids limit of tasks that set none, and the most a task may set; 0: unlimited.
  public var pidsLimit: Int64 = 0

  /// Nomad's default capability set for exec-style drivers.
  public static let defaultAllowedCaps = [
    "audit_write", "chown", "dac_override", "fowner", "fsetid", "kill", "mknod", "net_bind_service",
    "setfcap", "setgid", "setpcap", "setuid", "sys_chroot",
  ]

  public init() {}

  /// The schema Nomad parses the plugin block with.
  public static let schema = HCLSchema([
    HCLAttribute(
      "runtime", type: "string", default: "\"crun\"",
      help: "OCI runtime to run containers with: \"crun\" (default) or \"runc\"."),
    HCLAttribute(
      "runtime_path", type: "string", default: "\"\"",
      help: "Path to the runtime binary; empty looks `runtime` up on PATH."),
    HCLAttribute(
      "java_search_paths", type: "list(string)", default: "[\"/usr/lib/jvm\", \"/opt/java\"]",
      help: "Directories whose children are Java homes (JAVA_HOME and the java on PATH are always searched)."),
    HCLAttribute(
      "default_java_version", type: "string", default: "\"\"",
      help: "Java feature version for tasks that choose none, e.g. \"17\"; empty: the java on PATH, else the newest."),
    HCLAttribute(
      "default_java_home", type: "string", default: "\"\"",
      help: "Java home for tasks that choose none; overrides default_java_version."),
    HCLAttribute(
      "default_user", type: "string", default: "\"nobody\"",
      help: "User tasks run as when the job sets no `user`."),
    HCLAttribute(
      "log_buffer_bytes", type: "number", default: "4194304",
      help: "Bytes buffered per log stream while Nomad's log reader is slow or absent (min 65536)."),
    HCLAttribute(
      "allow_caps", type: "list(string)",
      default: "[" + defaultAllowedCaps.map { "\"\($0)\"" }.joined(separator: ", ") + "]",
      help: "Capabilities tasks may add with cap_add; tasks get none unless they ask."),
    HCLAttribute(
      "state_dir", type: "string", default: "\"/run/milo\"",
      help: "Directory for task state, OCI bundles and the runtime's state (root only)."),
    HCLAttribute(
      "pids_limit", type: "number", default: "0",
      help: "Most processes and threads per task, the default and the upper bound for tasks' pids_limit; 0: unlimited."),
  ])

  /// Decodes and validates the options Nomad sends (go-cty msgpack). Empty bytes give defaults.
  public static func decode(_ msgpack: [UInt8]) throws(DriverError) -> PluginConfig {
    var config = PluginConfig()
    guard !msgpack.isEmpty else { return config }
    let object: CtyObject
    do {
      object = try CtyObject(decoding: msgpack)
    } catch {
      throw .invalidArgument("invalid plugin config: \(error)")
    }
    do {
      config.runtime = try object.optionalString("runtime") ?? config.runtime
      config.runtimePath = try object.optionalString("runtime_path") ?? config.runtimePath
      if !object.isNull("java_search_paths") {
        config.javaSearchPaths = try object.stringList("java_search_paths")
      }
      config.defaultJavaVersion =
        try object.optionalString("default_java_version") ?? config.defaultJavaVersion
      config.defaultJavaHome = try object.optionalString("default_java_home") ?? config.defaultJavaHome
      config.defaultUser = try object.optionalString("default_user") ?? config.defaultUser
      if let bytes = try object.optionalInt("log_buffer_bytes") {
        guard bytes >= 65536, bytes <= 1 << 30 else {
          throw DriverError.invalidArgument(
            "log_buffer_bytes: expected a number of bytes between 65536 and 1073741824, got \(bytes)")
        }
        config.logBufferBytes = Int(bytes)
      }
      if !object.isNull("allow_caps") {
        config.allowCaps = try object.stringList("allow_caps").map(Capabilities.normalize)
      }
      config.stateDir = try object.optionalString("state_dir") ?? config.stateDir
      if let limit = try object.optionalInt("pids_limit") {
        guard limit >= 0 else {
          throw DriverError.invalidArgument(
            "pids_limit: expected 0 (unlimited) or a positive number of processes, got \(limit)")
        }
        config.pidsLimit = Int64(limit)
      }
    } catch let error as CtyError {
      throw .invalidArgument("invalid plugin config: \(error)")
    } catch let error as DriverError {
      throw error
    } catch {
      throw .invalidArgument("invalid plugin config: \(error)")
    }
    try config.validate()
    return config
  }

  /// Checks values that do not depend on the host.
  func validate() throws(DriverError) {
    guard ["crun", "runc"].contains(runtime) else {
      throw .invalidArgument(
        "runtime: expected \"crun\" or \"runc\", got \"\(runtime)\". Set runtime to one of them,"
          + " and runtime_path if the binary is not on PATH.")
    }
    guard stateDir.hasPrefix("/") else {
      throw .invalidArgument("state_dir: expected an absolute path, got \"\(stateDir)\"")
    }
    if !defaultJavaHome.isEmpty && !defaultJavaHome.hasPrefix("/") {
      throw .invalidArgument("default_java_home: expected an absolute path, got \"\(defaultJavaHome)\"")
    }
    for cap in allowCaps where !Capabilities.known.contains(cap) {
      throw .invalidArgument(
        "allow_caps: unknown capability \"\(cap)\"; expected names like \"net_bind_service\" or \"CAP_NET_BIND_SERVICE\""
      )
    }
  }
}
