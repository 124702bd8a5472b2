import Foundation

/// Builds a task's environment as Nomad's `taskenv.Builder` does (`client/taskenv/env.go`).
public struct TaskEnvironment: Sendable {
  /// The environment given to the driver (`TaskConfig.env`).
  public var env: [String: String]
  /// Variables for `${...}` in the task config.
  public var variables: HCLVariables

  /// Inputs that identify the task and its alloc.
  public struct Context: Sendable {
    public var job: JobSpec
    public var group: GroupSpec
    public var task: TaskSpec
    public var allocID: String
    /// The alloc index (NomadHost runs index 0).
    public var allocIndex: Int
    public var allocDir: AllocDir
    public var isolation: FSIsolation
    public var reservedCores: [Int]

    public init(
      job: JobSpec, group: GroupSpec, task: TaskSpec, allocID: String, allocIndex: Int = 0, allocDir: AllocDir,
      isolation: FSIsolation, reservedCores: [Int] = []
    ) {
      self.job = job
      self.group = group
      self.task = task
      self.allocID = allocID
      self.allocIndex = allocIndex
      self.allocDir = allocDir
      self.isolation = isolation
      self.reservedCores = reservedCores
    }
  }

  /// Builds the environment: NOMAD_* built-ins < host environment (minus the deny list, not for
  /// image isolation) < the task's `env` (interpolated with
  /// `${VAR}` references to the environment and node attributes).
  public static func build(_ context: Context, client: ClientConfig) -> TaskEnvironment {
    var env: [String: String] = [:]
    let taskDir = context.allocDir.taskDir(context.task.name)
    switch context.isolation {
    case .chroot, .image:
      env["NOMAD_ALLOC_DIR"] = "/alloc"
      env["NOMAD_TASK_DIR"] = "/local"
      env["NOMAD_SECRETS_DIR"] = "/secrets"
    case .none, .unveil:
      env["NOMAD_ALLOC_DIR"] = context.allocDir.sharedDir
      env["NOMAD_TASK_DIR"] = taskDir.local
      env["NOMAD_SECRETS_DIR"] = taskDir.secrets
    }
    let resources = context.task.resources
    if resources.memoryMB != 0 { env["NOMAD_MEMORY_LIMIT"] = String(resources.memoryMB) }
    if resources.memoryMaxMB != 0 { env["NOMAD_MEMORY_MAX_LIMIT"] = String(resources.memoryMaxMB) }
    if resources.cpu != 0 { env["NOMAD_CPU_LIMIT"] = String(resources.cpu) }
    if !context.reservedCores.isEmpty { env["NOMAD_CPU_CORES"] = idSetString(context.reservedCores) }
    env["NOMAD_ALLOC_ID"] = context.allocID
    env["NOMAD_SHORT_ALLOC_ID"] = String(context.allocID.prefix(8))
    env["NOMAD_ALLOC_NAME"] = "\(context.job.id).\(context.group.name)[\(context.allocIndex)]"
    env["NOMAD_GROUP_NAME"] = context.group.name
    env["NOMAD_ALLOC_INDEX"] = String(context.allocIndex)
    env["NOMAD_TASK_NAME"] = context.task.name
    env["NOMAD_JOB_ID"] = context.job.id
    env["NOMAD_JOB_NAME"] = context.job.name
    if !context.job.parentID.isEmpty { env["NOMAD_JOB_PARENT_ID"] = context.job.parentID }
    if !client.datacenter.isEmpty { env["NOMAD_DC"] = client.datacenter }
    env["NOMAD_PARENT_CGROUP"] = client.cgroupMode.parent
    env["NOMAD_NAMESPACE"] = context.job.namespace
    if !client.region.isEmpty { env["NOMAD_REGION"] = client.region }

    let node = nodeAttributes(client)
    // Combined meta: job < group < task.
    var meta = context.job.meta
    meta.merge(context.group.meta) { $1 }
    meta.merge(context.task.meta) { $1 }
    for (key, value) in meta {
      env["NOMAD_META_" + key.uppercased()] = replaceEnv(value, node, env)
      env["NOMAD_META_" + key] = replaceEnv(value, node, env)
    }
    // The task_dir hook's `setEnvvars`: the agent's environment (minus `env.denylist`) for every
    // isolation but image; as in Nomad v1.1.2's `buildEnv` it overrides the values above.
    if context.isolation != .image {
      let denied = Set(client.envDenyList)
      for (key, value) in client.hostEnvironment where !denied.contains(key) {
        env[key] = replaceEnv(value, node, env)
      }
    }
    let current = env
    for (key, value) in context.task.env {
      env[key] = replaceEnv(value, node, current)
    }
    // Clean keys with Nomad's prefixes (#2405).
    var cleaned: [String: String] = [:]
    for (key, value) in env {
      let prefixes = ["NOMAD_ADDR_", "NOMAD_IP_", "NOMAD_PORT_", "NOMAD_HOST_PORT_", "NOMAD_META_"]
      cleaned[prefixes.contains(where: key.hasPrefix) ? cleanEnvVar(key) : key] = value
    }
    return TaskEnvironment(env: cleaned, variables: HCLVariables(env: cleaned, node: node))
  }

  /// The node attributes NomadHost exposes (`node.*`, `attr.*`).
  public static func nodeAttributes(_ client: ClientConfig) -> [String: String] {
    var attributes: [String: String] = [
      "node.unique.id": client.nodeID,
      "node.unique.name": client.nodeName,
      "node.datacenter": client.datacenter,
      "node.region": client.region,
      "node.class": "",
      "attr.kernel.name": "linux",
      "attr.os.name": "linux",
      "attr.unique.hostname": client.nodeName,
      "attr.cpu.numcores": String(client.topology.cores.count),
      "attr.cpu.totalcompute": String(client.topology.usableComputeMHz),
    ]
    #if arch(x86_64)
      attributes["attr.cpu.arch"] = "amd64"
    #elseif arch(arm64)
      attributes["attr.cpu.arch"] = "arm64"
    #endif
    return attributes
  }

  /// `hargs.ReplaceEnv`: `${key}` replaced from the maps in order; unknown keys are kept.
  public static func replaceEnv(_ text: String, _ maps: [String: String]...) -> String {
    guard text.contains("${") else { return text }
    var out = ""
    var rest = Substring(text)
    while let start = rest.range(of: "${") {
      out += rest[..<start.lowerBound]
      let after = rest[start.upperBound...]
      guard let end = after.firstIndex(of: "}") else {
        out += rest[start.lowerBound...]
        return out
      }
      let key = after[..<end]
      let valid = !key.isEmpty && key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }
      if valid, let value = maps.lazy.compactMap({ $0[String(key)] }).first {
        out += value
      } else {
        out += rest[start.lowerBound...end]
      }
      rest = after[after.index(after: end)...]
    }
    return out + rest
  }

  /// `helper.CleanEnvVar(s, '_')`.
  public static func cleanEnvVar(_ text: String) -> String {
    var bytes = Array(text.utf8)
    for (i, c) in bytes.enumerated() {
      let ok =
        c == UInt8(ascii: "_") || c == UInt8(ascii: ".") || (c >= 97 && c <= 122) || (c >= 65 && c <= 90)
        || (i > 0 && c >= 48 && c <= 57)
      if !ok { bytes[i] = UInt8(ascii: "_") }
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// idset's `String()`: "0-3,5".
  public static func idSetString(_ ids: [Int]) -> String {
    let sorted = Array(Set(ids)).sorted()
    guard var low = sorted.first else { return " " }
    var high = low
    var parts: [String] = []
    for id in sorted.dropFirst() {
      if id == high + 1 {
        high = id
        continue
      }
      parts.append(low == high ? "\(low)" : "\(low)-\(high)")
      low = id
      high = id
    }
    parts.append(low == high ? "\(low)" : "\(low)-\(high)")
    return parts.joined(separator: ",")
  }
}
