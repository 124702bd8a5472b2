import Foundation
import MiloSupervisor
import NomadPlugin

/// Everything decided about a task before its container is created.
struct LaunchPlan: Sendable {
  /// The task's state directory layout and cgroup path.
  var paths: TaskPaths
  var runtime: OCIRuntime
  var java: JavaRuntime
  var spec: OCISpec
  var supervisorOptions: SupervisorOptions
  /// What the task's author should know, shown as task events (the task still starts).
  var warnings: [String] = []

  var containerID: String { paths.containerID }
}

/// Validates a task's inputs against the host and plans its container. Throws `TaskError` or
/// `HostProblem`, whose text is what the job's author reads.
public struct LaunchPlanner {
  var config: PluginConfig
  var report: HostReport
  /// The binary to run as the container's first process (nil: the JVM is the first process).
  var initBinary: InitBinary? = nil

  func plan(for task: TaskConfig) throws -> LaunchPlan {
    let options: TaskOptions
    do {
      options = try TaskOptions.decode([UInt8](task.msgpackDriverConfig))
    } catch {
      throw TaskError(
        "invalid task config", expected: "the options in milo's task schema",
        got: error.message, suggestion: "fix the task's config block (see milo's README for options).")
    }
    let taskDir = task.allocDir + "/" + task.name
    let command = try JavaCommand.resolve(options: options, taskDir: taskDir, allocDir: task.allocDir)
    let java: JavaRuntime
    if options.javaHome != nil || options.javaVersion != nil {
      java = try JavaSelection.choose(
        from: report.javas, home: options.javaHome, version: options.javaVersion, pathJava: nil,
        searched: report.javaSearched, settingNames: ("java_home", "java_version"))
    } else if let defaultJava = report.defaultJava {
      java = defaultJava
    } else {
      throw HostProblem(report.problems.first { $0.contains("Java") } ?? "Error: No Java runtime found on host")
    }
    guard let runtime = report.runtime else {
      throw HostProblem(
        report.problems.first ?? "the OCI runtime \(config.runtime) is not available on this host")
    }
    guard report.isRoot else { throw HostProblem(HostReport.notRootProblem) }
    let user = try TaskUser.resolve(task.user.isEmpty ? config.defaultUser : task.user)
    for cap in options.capAdd where !config.allowCaps.contains(cap) {
      throw TaskError(
        "capability \(cap) is not allowed", expected: "cap_add within the plugin's allow_caps",
        got: "cap_add = [\(options.capAdd.map { "\"\($0)\"" }.joined(separator: ", "))]",
        suggestion: "remove it from cap_add, or ask the operator to add it to allow_caps in the milo plugin config.")
    }

    let pidsLimit = try Self.pidsLimit(task: options.pidsLimit, plugin: config.pidsLimit)
    let cpuQuota = try Self.cpuQuota(options, task.resources.linuxResources.percentTicks)

    let volumes = try TaskVolumes.resolve(task, user: user)

    let containerID = Self.containerID(for: task.id)
    let paths = TaskPaths(stateDir: config.stateDir, containerID: containerID)
    let cgroupsPath = paths.cgroup
    let network = task.networkIsolation.flatMap { $0.mode == .group ? $0.path : nil }
    let spec = BundleBuilder.spec(
      for: BundleRequest(
        containerID: containerID, bundleDir: paths.bundle, taskDir: taskDir,
        allocDir: task.allocDir, java: java, command: command, env: task.env, user: user,
        capabilities: options.capAdd, resources: task, networkNamespacePath: network,
        cgroupsPath: cgroupsPath, workDir: options.workDir, initBinary: initBinary,
        pidsLimit: pidsLimit, cpuQuota: cpuQuota, volumes: volumes))
    let cgroupRoot = "/sys/fs/cgroup"
    let oomFile: String? =
      switch report.cgroup {
      case .v2: cgroupRoot + cgroupsPath + "/memory.events"
      case .v1, .hybrid: cgroupRoot + "/memory" + cgroupsPath + "/memory.oom_control"
      case .none: nil
      }
    let supervisor = SupervisorOptions(
      stateDir: paths.stateDir, runtime: runtime.path, runtimeRoot: paths.runtimeRoot,
      bundle: paths.bundle, containerID: containerID,
      stdoutPath: task.stdoutPath.isEmpty ? "/dev/null" : task.stdoutPath,
      stderrPath: task.stderrPath.isEmpty ? "/dev/null" : task.stderrPath,
      bufferBytes: config.logBufferBytes,
      hideMount: CgroupMode.hiddenUnifiedMount(for: report.cgroup), oomFile: oomFile,
      containerInit: initBinary != nil, cgroupParent: report.cgroup == .none ? nil : CgroupParent.milo)
    return LaunchPlan(
      paths: paths, runtime: runtime, java: java, spec: spec, supervisorOptions: supervisor,
      warnings: volumes.warnings)
  }

  /// The task's pids limit: its own within the plugin's bound, else the plugin's (nil: none).
  static func pidsLimit(task: Int64?, plugin: Int64) throws(TaskError) -> Int64? {
    // As Docker's driver: a task value of 0 (or less) means "not set".
    guard let task, task > 0 else { return plugin > 0 ? plugin : nil }
    if plugin > 0 && task > plugin {
      throw TaskError(
        "pids_limit is above the plugin's limit", expected: "pids_limit ≤ \(plugin) (the milo plugin's pids_limit)",
        got: "pids_limit = \(task)",
        suggestion: "lower the task's pids_limit, or ask the operator to raise the plugin's.")
    }
    return task
  }

  /// The quota for `cpu_hard_limit` (nil without it), after checking `cpu_cfs_period`.
  static func cpuQuota(_ options: TaskOptions, _ percentTicks: Double) throws(TaskError) -> CPUQuota? {
    guard options.cpuHardLimit else { return nil }
    // As Docker's driver: 0 (or unset) is the default period.
    let period = options.cpuCFSPeriod.flatMap { $0 == 0 ? nil : $0 } ?? 100_000
    guard (1000...1_000_000).contains(period) else {
      throw TaskError(
        "invalid cpu_cfs_period", expected: "microseconds between 1000 and 1000000 (0: the default, 100000)",
        got: "cpu_cfs_period = \(period)",
        suggestion: "remove cpu_cfs_period, or set it within that range.")
    }
    return CPUQuota.hardLimit(
      percentTicks: percentTicks, period: UInt64(period), cores: ProcessInfo.processInfo.activeProcessorCount)
  }

  /// The container id for a Nomad task id (`<alloc>/<task>/<8 hex, new for every start>`): one
  /// per alloc and task, as Docker's `<task>-<alloc>` container name, so that a start finds what
  /// an earlier start of the same task left behind. Only [A-Za-z0-9_.-]: `/` becomes `_`, and
  /// when other characters had to be replaced a hash of the original keeps names distinct.
  public static func containerID(for taskID: String) -> String {
    var parts = taskID.split(separator: "/", omittingEmptySubsequences: false)
    if parts.count >= 3 { parts.removeLast() }
    let base = parts.joined(separator: "/")
    var replaced = false
    let mapped = base.unicodeScalars.map { scalar -> Character in
      switch scalar {
      case "a"..."z", "A"..."Z", "0"..."9", "-", ".": return Character(scalar)
      case "/": return "_"
      default:
        replaced = true
        return "_"
      }
    }
    let id = "milo-" + String(mapped)
    return replaced ? id + "-" + fnv1a(base) : id
  }

  /// The container id milo 0.1.0 used (one per start, from the whole task id); DestroyTask still
  /// removes such containers.
  static func legacyContainerID(for taskID: String) -> String {
    let mapped = taskID.unicodeScalars.map { scalar -> Character in
      switch scalar {
      case "a"..."z", "A"..."Z", "0"..."9", "-", ".": Character(scalar)
      default: "_"
      }
    }
    return "milo-" + String(mapped)
  }

  /// 32-bit FNV-1a of `text`, as 8 hex digits.
  static func fnv1a(_ text: String) -> String {
    var hash: UInt32 = 0x811c_9dc5
    for byte in text.utf8 {
      hash ^= UInt32(byte)
      hash = hash &* 0x0100_0193
    }
    let hex = String(hash, radix: 16)
    return String(repeating: "0", count: 8 - hex.count) + hex
  }
}
