import NomadPlugin

/// What a job's `config { ... }` block says for a milo task.
public struct TaskOptions: Sendable, Equatable, Codable {
  /// The JAR to run, relative to the task directory (or absolute inside the task's view).
  public var jarPath: String?
  /// A main class to run instead of a JAR.
  public var mainClass: String?
  /// The class path for `mainClass` (`-cp`).
  public var classPath: String?
  public var jvmOptions: [String] = []
  public var args: [String] = []
  /// A Java feature version (e.g. "17") or full version prefix.
  public var javaVersion: String?
  /// A specific Java home on the host.
  public var javaHome: String?
  /// Capabilities to add (must be allowed by the plugin's `allow_caps`).
  public var capAdd: [String] = []
  /// The working directory inside the container (default: the task directory).
  public var workDir: String?
  /// The most processes and threads the task may have (nil: the plugin's pids_limit).
  public var pidsLimit: Int64?
  /// Enforce the task's `cpu` as a CFS quota (its share of the node's compute), not only shares.
  public var cpuHardLimit = false
  /// The CFS period in microseconds for `cpuHardLimit` (nil: 100000).
  public var cpuCFSPeriod: Int64?

  public init() {}

  /// The schema Nomad parses the task's `config {}` block with. Every option is optional.
  public static let schema = HCLSchema([
    HCLAttribute("jar_path", type: "string", help: "JAR to run; default: the single *.jar in local/."),
    HCLAttribute("class", type: "string", help: "Main class to run instead of a JAR."),
    HCLAttribute("class_path", type: "string", help: "Class path for `class` (java -cp)."),
    HCLAttribute("jvm_options", type: "list(string)", help: "Options for the JVM, before -jar/-cp."),
    HCLAttribute("args", type: "list(string)", help: "Arguments for the application."),
    HCLAttribute("java_version", type: "string", help: "Java version to use, e.g. \"17\"."),
    HCLAttribute("java_home", type: "string", help: "Java home on the host to use."),
    HCLAttribute("cap_add", type: "list(string)", help: "Capabilities to add, within allow_caps."),
    HCLAttribute("work_dir", type: "string", help: "Working directory inside the container."),
    HCLAttribute(
      "pids_limit", type: "number",
      help: "Most processes and threads (JVM threads count); within the plugin's pids_limit."),
    HCLAttribute(
      "cpu_hard_limit", type: "bool",
      help: "Cap CPU at the task's `cpu` share of the node (a CFS quota), as Docker's option does."),
    HCLAttribute(
      "cpu_cfs_period", type: "number", help: "CFS period in microseconds for cpu_hard_limit (default 100000)."),
  ])

  /// Decodes the task options Nomad sends (go-cty msgpack).
  public static func decode(_ msgpack: [UInt8]) throws(DriverError) -> TaskOptions {
    var options = TaskOptions()
    guard !msgpack.isEmpty else { return options }
    do {
      let object = try CtyObject(decoding: msgpack)
      func text(_ key: String) throws -> String? {
        guard let value = try object.optionalString(key), !value.isEmpty else { return nil }
        return value
      }
      options.jarPath = try text("jar_path")
      options.mainClass = try text("class")
      options.classPath = try text("class_path")
      options.jvmOptions = try object.stringList("jvm_options")
      options.args = try object.stringList("args")
      options.javaVersion = try text("java_version")
      options.javaHome = try text("java_home")
      options.capAdd = try object.stringList("cap_add").map(Capabilities.normalize)
      options.workDir = try text("work_dir")
      options.pidsLimit = try object.optionalInt("pids_limit").map { Int64($0) }
      options.cpuHardLimit = try object.optionalBool("cpu_hard_limit") ?? false
      options.cpuCFSPeriod = try object.optionalInt("cpu_cfs_period").map { Int64($0) }
    } catch {
      throw .invalidArgument("invalid task config: \(error)")
    }
    return options
  }
}
