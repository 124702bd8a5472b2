import Foundation
import Logging
import MiloSupervisor
import NomadPlugin
import Synchronization

/// The milo task driver: runs JARs with the host's Java in crun containers.
public final class MiloDriver: NomadDriver {
  public static let version = "0.1.0"

  public let identity = PluginIdentity(name: "milo", version: MiloDriver.version)
  public var configSchema: HCLSchema { PluginConfig.schema }
  public var taskConfigSchema: HCLSchema { TaskOptions.schema }

  public var capabilities: DriverCapabilities {
    var caps = DriverCapabilities()
    caps.sendSignals = true
    caps.exec = true
    // milo builds its own root filesystem and binds the task's directories into it: `image`
    // spares the Nomad client building (copying chroot_env into) a chroot per task.
    caps.fsIsolation = .image
    caps.networkIsolationModes = [.host, .group]
    caps.mustCreateNetwork = false
    // Host and CSI volumes (`volume_mount`) and devices arrive in TaskConfig.mounts/devices.
    caps.mountConfigs = .anyMounts
    return caps
  }

  struct Settings {
    var config = PluginConfig()
    var configured = false
    var report: HostReport?
  }

  let settings = Mutex(Settings())
  let tasks = TaskStore()
  let containerLocks = ContainerLocks()
  let events = EventBus()
  let logger: Logger
  /// The container world: every container, supervisor and state-dir operation goes through it.
  let runtime: any ContainerRuntime
  /// Inspects the host for a plugin config (`HostProbe` outside tests).
  let probe: @Sendable (PluginConfig) -> HostReport
  /// How often the fingerprint re-checks the host.
  let fingerprintPeriod: Duration
  /// The helper (or this binary) as each container's init; nil when task users could not run it.
  let initBinary: InitBinary?
  /// Why the helper cannot be each container's init (nil: it is); checked once, at start-up.
  let initBinaryProblem: String?

  /// `executable` is the plugin binary; the helper beside it is used when it is there.
  public convenience init(logger: Logger, executable: String, fingerprintPeriod: Duration = .seconds(30)) {
    let helper = TaskHelper.locate(plugin: executable)
    if let reason = helper.fallbackReason {
      logger.info("tasks are supervised by the plugin binary itself: \(reason)")
    } else {
      logger.info("per-task helper", metadata: ["path": "\(helper.path)"])
    }
    let initBinary = InitBinary.current(executable: helper.path)
    let initBinaryProblem = initBinary == nil ? InitBinary.problem(with: helper.path) : nil
    if let problem = initBinaryProblem {
      logger.warning(
        "\(problem): containers run the JVM as their first process, where signals without a JVM handler are discarded")
    }
    self.init(
      logger: logger, runtime: CrunRuntime(executable: helper.path), probe: { HostProbe(config: $0).probe() },
      initBinary: initBinary, initBinaryProblem: initBinaryProblem, fingerprintPeriod: fingerprintPeriod)
  }

  /// A driver over `runtime` that learns about the host from `probe`: the seam that lets the
  /// lifecycle logic run against a fake runtime in tests.
  init(
    logger: Logger, runtime: any ContainerRuntime, probe: @escaping @Sendable (PluginConfig) -> HostReport,
    initBinary: InitBinary?, initBinaryProblem: String?, fingerprintPeriod: Duration = .seconds(30)
  ) {
    self.logger = logger
    self.runtime = runtime
    self.probe = probe
    self.initBinary = initBinary
    self.initBinaryProblem = initBinaryProblem
    self.fingerprintPeriod = fingerprintPeriod
  }

  // MARK: Configuration and fingerprinting

  public func setConfig(msgpack: [UInt8], agentConfig: AgentConfig?) async throws {
    let config = try PluginConfig.decode(msgpack)
    try checkPaths(config)
    guard agentConfig != nil else { return }  // Validation only: no side effects.
    let report = probe(config)
    settings.withLock {
      $0.config = config
      $0.configured = true
      $0.report = report
    }
    if report.isHealthy {
      logger.info(
        "milo configured",
        metadata: [
          "runtime": "\(report.runtime?.version ?? "-")", "java": "\(report.defaultJava?.home ?? "-")",
          "cgroup": "\(report.cgroup.rawValue)",
        ])
    } else {
      logger.warning("milo cannot run tasks yet", metadata: ["problems": "\(report.problems.joined(separator: " "))"])
    }
  }

  /// Host checks that make a config invalid rather than the node unhealthy.
  func checkPaths(_ config: PluginConfig) throws(DriverError) {
    for path in config.javaSearchPaths {
      var isDir: ObjCBool = false
      if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue {
        throw .invalidArgument("java_search_paths: expected directories, but \(path) is a file")
      }
    }
    let parent = (config.stateDir as NSString).deletingLastPathComponent
    guard FileManager.default.fileExists(atPath: parent) else {
      throw .invalidArgument(
        "state_dir: the parent directory \(parent) of \(config.stateDir) does not exist; create it or choose another state_dir"
      )
    }
  }

  var currentConfig: PluginConfig { settings.withLock { $0.config } }

  /// Re-probes the host and returns the new report.
  func refreshReport() -> HostReport {
    let report = probe(currentConfig)
    settings.withLock { $0.report = report }
    return report
  }

  var report: HostReport {
    if let report = settings.withLock({ $0.report }) { return report }
    return refreshReport()
  }

  public func fingerprint(_ send: @Sendable (Fingerprint) async throws -> Void) async throws {
    var last: Fingerprint?
    while !Task.isCancelled {
      let current = HostProbe.fingerprint(refreshReport(), version: Self.version)
      if current != last {
        try await send(current)
        last = current
      }
      try await Task.sleep(for: fingerprintPeriod)
    }
  }

  public func taskEvents(_ send: @Sendable (DriverTaskEvent) async throws -> Void) async throws {
    for await event in events.subscribe() {
      try await send(event)
    }
  }

  public func shutdown() async {
    logger.info("milo shutting down; tasks keep running under their supervisors")
  }
}
