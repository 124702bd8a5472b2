import Foundation
import NomadPlugin

/// A job, in the subset of Nomad's JSON job format (`nomad job run -json`, `/v1/jobs`) that
/// NomadHost runs. See `JobFile` for the JSON field names.
public struct JobSpec: Sendable {
  public enum JobType: String, Sendable {
    case service, batch, sysbatch, system
  }

  /// `ID`.
  public var id: String
  /// `Name` (defaults to the ID).
  public var name: String
  /// `Type` (default service).
  public var type: JobType
  /// `Namespace` (default "default").
  public var namespace: String
  /// `ParentID`.
  public var parentID: String
  /// `Meta`.
  public var meta: [String: String]
  /// `TaskGroups`.
  public var groups: [GroupSpec]

  public init(
    id: String, name: String? = nil, type: JobType = .service, namespace: String = "default", parentID: String = "",
    meta: [String: String] = [:], groups: [GroupSpec]
  ) {
    self.id = id
    self.name = name ?? id
    self.type = type
    self.namespace = namespace
    self.parentID = parentID
    self.meta = meta
    self.groups = groups
  }
}

/// A task group (`TaskGroups[]`).
public struct GroupSpec: Sendable {
  /// Group network modes NomadHost understands.
  public enum NetworkMode: String, Sendable {
    /// No isolation.
    case host
    /// A network namespace per alloc, created by the client (`/var/run/netns/<allocID>`).
    case bridge
    /// Like bridge but without interfaces (isolation mode group).
    case none
  }

  /// `Name`.
  public var name: String
  /// `RestartPolicy` (defaults depend on the job type).
  public var restartPolicy: RestartPolicySpec?
  /// `Networks[0].Mode` (default host).
  public var networkMode: NetworkMode
  /// `Meta`.
  public var meta: [String: String]
  /// `Tasks`.
  public var tasks: [TaskSpec]

  public init(
    name: String, restartPolicy: RestartPolicySpec? = nil, networkMode: NetworkMode = .host,
    meta: [String: String] = [:], tasks: [TaskSpec]
  ) {
    self.name = name
    self.restartPolicy = restartPolicy
    self.networkMode = networkMode
    self.meta = meta
    self.tasks = tasks
  }
}

/// A task (`Tasks[]`).
public struct TaskSpec: Sendable {
  /// `Name`.
  public var name: String
  /// `Driver`.
  public var driver: String
  /// `User` ("" lets the driver choose).
  public var user: String
  /// `Config`: nil when the job has no config block.
  public var config: [String: MsgpackValue]?
  /// `Env`.
  public var env: [String: String]
  /// `Meta`.
  public var meta: [String: String]
  /// `Artifacts`.
  public var artifacts: [ArtifactSpec]
  /// `Resources`.
  public var resources: ResourcesSpec
  /// `KillTimeout` (default 5 s).
  public var killTimeout: Duration
  /// `KillSignal` (no default: "" is sent and the driver picks one).
  public var killSignal: String
  /// `LogConfig`.
  public var logs: LogConfigSpec
  /// A task-level `RestartPolicy` (overrides the group's).
  public var restartPolicy: RestartPolicySpec?

  public init(
    name: String, driver: String, user: String = "", config: [String: MsgpackValue]?, env: [String: String] = [:],
    meta: [String: String] = [:], artifacts: [ArtifactSpec] = [], resources: ResourcesSpec = ResourcesSpec(),
    killTimeout: Duration = .seconds(5), killSignal: String = "", logs: LogConfigSpec = LogConfigSpec(),
    restartPolicy: RestartPolicySpec? = nil
  ) {
    self.name = name
    self.driver = driver
    self.user = user
    self.config = config
    self.env = env
    self.meta = meta
    self.artifacts = artifacts
    self.resources = resources
    self.killTimeout = killTimeout
    self.killSignal = killSignal
    self.logs = logs
    self.restartPolicy = restartPolicy
  }
}

/// `Resources`.
public struct ResourcesSpec: Sendable, Equatable {
  /// `CPU` in MHz (default 100).
  public var cpu: Int64
  /// `MemoryMB` (default 300).
  public var memoryMB: Int64
  /// `MemoryMaxMB` (0 = none).
  public var memoryMaxMB: Int64
  /// `Cores`: reserve this many whole cores (0 = none). NomadHost reserves the first N.
  public var cores: Int

  public init(cpu: Int64 = 100, memoryMB: Int64 = 300, memoryMaxMB: Int64 = 0, cores: Int = 0) {
    self.cpu = cpu
    self.memoryMB = memoryMB
    self.memoryMaxMB = memoryMaxMB
    self.cores = cores
  }
}

/// `LogConfig` (`logs {}`).
public struct LogConfigSpec: Sendable, Equatable {
  /// `MaxFiles` (default 10).
  public var maxFiles: Int
  /// `MaxFileSizeMB` (default 10).
  public var maxFileSizeMB: Int
  /// `Disabled`: no logmon, output goes to /dev/null.
  public var disabled: Bool

  public init(maxFiles: Int = 10, maxFileSizeMB: Int = 10, disabled: Bool = false) {
    self.maxFiles = maxFiles
    self.maxFileSizeMB = maxFileSizeMB
    self.disabled = disabled
  }
}

/// `RestartPolicy`.
public struct RestartPolicySpec: Sendable, Equatable {
  public enum Mode: String, Sendable {
    case fail, delay
  }

  public var attempts: Int
  public var interval: Duration
  public var delay: Duration
  public var mode: Mode

  public init(attempts: Int, interval: Duration, delay: Duration, mode: Mode) {
    self.attempts = attempts
    self.interval = interval
    self.delay = delay
    self.mode = mode
  }

  /// Nomad's defaults: service 2 attempts / 30 m / 15 s / fail; batch 3 / 24 h / 15 s / fail.
  public static func defaults(for type: JobSpec.JobType) -> RestartPolicySpec {
    switch type {
    case .batch, .sysbatch:
      return RestartPolicySpec(attempts: 3, interval: .seconds(24 * 3600), delay: .seconds(15), mode: .fail)
    case .service, .system:
      return RestartPolicySpec(attempts: 2, interval: .seconds(30 * 60), delay: .seconds(15), mode: .fail)
    }
  }
}

/// `Artifacts[]`. Nomad's getter has no `file://` scheme; NomadHost copies a local file instead,
/// keeping its name.
public struct ArtifactSpec: Sendable, Equatable {
  /// `GetterSource`: a local path or `file://` URL.
  public var source: String
  /// `RelativeDest` (default "local/").
  public var destination: String

  public init(source: String, destination: String = "local/") {
    self.source = source
    self.destination = destination
  }
}
