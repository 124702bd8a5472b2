import Foundation
import MiloSys
import NomadPlugin

/// Everything that decides one task's container.
public struct BundleRequest: Sendable {
  public var containerID: String
  public var bundleDir: String
  public var taskDir: String
  public var allocDir: String
  public var java: JavaRuntime
  public var command: JavaCommand
  public var env: [String: String]
  public var user: TaskUser
  public var capabilities: [String]
  public var resources: TaskConfig?
  public var networkNamespacePath: String?
  public var cgroupsPath: String
  public var workDir: String?
  /// When set, the container's first process is `milo init`, which runs the JVM as its child.
  public var initBinary: InitBinary?
  /// The most processes and threads the container may have (nil: unlimited).
  public var pidsLimit: Int64?
  /// A CFS quota from the task's `cpu_hard_limit` (nil: shares only, unless Nomad sends a quota).
  public var cpuQuota: CPUQuota?
  /// The task's host and CSI volumes and devices.
  public var volumes = TaskVolumes()
}

/// A CFS bandwidth limit: `quota` microseconds of CPU time per `period` microseconds.
public struct CPUQuota: Sendable, Equatable {
  public var quota: Int64
  public var period: UInt64

  public init(quota: Int64, period: UInt64) {
    self.quota = quota
    self.period = period
  }

  /// Docker's `cpu_hard_limit`: the task's share of the node's compute (Nomad's `PercentTicks`)
  /// of every core, per period. Nil when there is nothing to cap (no share).
  public static func hardLimit(percentTicks: Double, period: UInt64, cores: Int) -> CPUQuota? {
    let perCore = Int64(percentTicks * Double(period))
    guard perCore > 0 else { return nil }
    return CPUQuota(quota: perCore * Int64(max(cores, 1)), period: period)
  }
}

/// Writes OCI bundles: a read-only rootfs of host binds and the task's own directories.
public enum BundleBuilder {
  /// Host paths under /etc a JVM needs, mounted read-only when present.
  static let etcFiles = [
    "/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/hosts", "/etc/resolv.conf",
    "/etc/hostname", "/etc/localtime", "/etc/timezone", "/etc/ld.so.cache", "/etc/ssl/certs",
    "/etc/ca-certificates", "/etc/pki", "/etc/alternatives",
  ]
  /// Top-level directories that are symlinks into /usr on merged-/usr hosts.
  static let rootLinks = ["bin", "sbin", "lib", "lib32", "lib64", "libx32"]

  /// The spec for `request` (pure: reads only the host's directory layout).
  public static func spec(for request: BundleRequest) -> OCISpec {
    var mounts: [OCISpec.Mount] = [
      .init(destination: "/proc", type: "proc", source: "proc", options: nil),
      .init(
        destination: "/dev", type: "tmpfs", source: "tmpfs",
        options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
      .init(
        destination: "/dev/pts", type: "devpts", source: "devpts",
        options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
      .init(
        destination: "/dev/shm", type: "tmpfs", source: "shm",
        options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
      .init(
        destination: "/dev/mqueue", type: "mqueue", source: "mqueue",
        options: ["nosuid", "noexec", "nodev"]),
      .init(
        destination: "/sys", type: "sysfs", source: "sysfs",
        options: ["nosuid", "noexec", "nodev", "ro"]),
      .init(
        destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup",
        options: ["nosuid", "noexec", "nodev", "relatime", "ro"]),
      .bind("/usr", readOnly: true),
    ]
    for name in rootLinks where isRealDirectory("/" + name) {
      mounts.append(.bind("/" + name, readOnly: true))
    }
    var etc = etcFiles
    if let javaConfigs = try? FileManager.default.contentsOfDirectory(atPath: "/etc") {
      etc += javaConfigs.filter { $0.hasPrefix("java-") }.sorted().map { "/etc/" + $0 }
    }
    for path in etc where FileManager.default.fileExists(atPath: path) {
      mounts.append(.bind(path, readOnly: true))
    }
    if !request.java.home.hasPrefix("/usr/") {
      mounts.append(.bind(request.java.home, readOnly: true))
    }
    mounts += [
      .bind(request.taskDir + "/local", at: "/local", readOnly: false),
      .bind(request.taskDir + "/secrets", at: "/secrets", readOnly: false),
      .bind(request.taskDir + "/tmp", at: "/tmp", readOnly: false),
      .bind(request.allocDir + "/alloc", at: "/alloc", readOnly: false),
    ]
    if let initBinary = request.initBinary { mounts += initBinary.mounts }
    mounts += request.volumes.mounts

    let env = environment(request)

    var namespaces: [OCISpec.Namespace] = [
      .init(type: "pid"), .init(type: "ipc"), .init(type: "uts"), .init(type: "mount"),
    ]
    if let path = request.networkNamespacePath, !path.isEmpty {
      namespaces.append(.init(type: "network", path: path))
    }

    let caps = request.capabilities.map(Capabilities.ociName)
    return OCISpec(
      process: .init(
        user: .init(
          uid: request.user.uid, gid: request.user.gid,
          additionalGids: request.user.groups.isEmpty ? nil : request.user.groups),
        args: processArguments(request),
        env: env.keys.sorted().map { "\($0)=\(env[$0] ?? "")" },
        cwd: request.workDir ?? "/",
        capabilities: .init(caps),
        rlimits: [],
        oomScoreAdj: nil),
      root: .init(path: "rootfs", readonly: true),
      hostname: hostname(for: request),
      mounts: mounts,
      linux: .init(
        resources: resources(
          request.resources, pidsLimit: request.pidsLimit, cpuQuota: request.cpuQuota,
          devices: request.volumes.deviceRules),
        cgroupsPath: request.cgroupsPath,
        namespaces: namespaces,
        maskedPaths: [
          "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
          "/proc/scsi",
        ],
        readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
        devices: request.volumes.devices.isEmpty ? nil : request.volumes.devices))
  }

  /// The default PATH inside the container (after the Java home's `bin`).
  static let defaultPath = Environment.defaultSearchPath

  /// The container's environment. milo declares `image` isolation, so Nomad passes no host
  /// environment: the task's (Nomad's `NOMAD_*` and the job's `env`) plus JAVA_HOME, PATH with
  /// the Java home's `bin` first (before the job's PATH, else the default), HOME, LANG and TMPDIR
  /// unless the job sets them, and the container paths of the task directories.
  static func environment(_ request: BundleRequest) -> [String: String] {
    var env = request.env
    env["JAVA_HOME"] = request.java.home
    let path = env["PATH"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultPath
    env["PATH"] = "\(request.java.home)/bin:\(path)"
    env["NOMAD_TASK_DIR"] = "/local"
    env["NOMAD_SECRETS_DIR"] = "/secrets"
    env["NOMAD_ALLOC_DIR"] = "/alloc"
    if env["HOME"] == nil { env["HOME"] = "/local" }
    if env["TMPDIR"] == nil { env["TMPDIR"] = "/tmp" }
    if env["LANG"] == nil { env["LANG"] = "C.UTF-8" }
    return env
  }

  /// The container's command: the JVM, under `milo init` when there is one.
  static func processArguments(_ request: BundleRequest) -> [String] {
    let java = [request.java.home + "/bin/java"] + request.command.arguments
    guard request.initBinary != nil else { return java }
    return [InitBinary.containerPath, "init"] + java
  }

  /// Limits from Nomad's resources: memory (hard limit = max(memory, memory_max), reservation =
  /// memory when memory_max is larger), no swap, cpu shares, quota (Nomad's, else the task's hard
  /// limit) and cpuset; and the pids limit.
  static func resources(
    _ task: TaskConfig?, pidsLimit: Int64? = nil, cpuQuota: CPUQuota? = nil,
    devices: [OCISpec.DeviceRule] = []
  ) -> OCISpec.Resources {
    var result = OCISpec.Resources(devices: [.init(allow: false, access: "rwm")] + devices)
    if let pidsLimit, pidsLimit > 0 { result.pids = .init(limit: pidsLimit) }
    guard let task, task.resources != Resources() else { return result }
    let linux = task.resources.linuxResources
    let allocated = task.resources.allocatedResources
    var limit = linux.memoryLimitBytes
    let memoryMB = allocated.memory.memoryMb
    let maxMB = allocated.memory.memoryMaxMb
    if limit <= 0 { limit = max(memoryMB, maxMB) << 20 }
    if limit > 0 {
      var memory = OCISpec.Memory(limit: limit, reservation: nil, swap: limit)
      if maxMB > memoryMB && memoryMB > 0 { memory.reservation = memoryMB << 20 }
      result.memory = memory
    }
    var cpu = OCISpec.CPU()
    let shares = linux.cpuShares > 0 ? linux.cpuShares : allocated.cpu.cpuShares
    if shares > 0 { cpu.shares = UInt64(max(shares, 2)) }
    if linux.cpuQuota > 0 {
      cpu.quota = linux.cpuQuota
      cpu.period = UInt64(linux.cpuPeriod > 0 ? linux.cpuPeriod : 100_000)
    } else if let cpuQuota {
      cpu.quota = cpuQuota.quota
      cpu.period = cpuQuota.period
    }
    if !linux.cpusetCpus.isEmpty { cpu.cpus = linux.cpusetCpus }
    if cpu != OCISpec.CPU() { result.cpu = cpu }
    return result
  }

  /// Creates the bundle directory with its rootfs skeleton and config.json.
  public static func write(_ spec: OCISpec, to bundleDir: String) throws {
    let fm = FileManager.default
    let rootfs = bundleDir + "/rootfs"
    try fm.createDirectory(atPath: rootfs, withIntermediateDirectories: true)
    for name in rootLinks {
      let host = "/" + name
      guard let target = try? fm.destinationOfSymbolicLink(atPath: host) else { continue }
      try? fm.createSymbolicLink(atPath: rootfs + "/" + name, withDestinationPath: target)
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    try encoder.encode(spec).write(to: URL(fileURLWithPath: bundleDir + "/config.json"))
  }

  static func hostname(for request: BundleRequest) -> String {
    let name = String(request.containerID.prefix(63))
    return name.isEmpty ? "milo" : name
  }

  private static func isRealDirectory(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
  }
}
