import NomadProto

/// What Nomad asks a driver to run: one task of one allocation (Go: `drivers.TaskConfig`).
///
/// Fields the SDK does not model yet (ports, DNS, node and namespace names, ...) are kept as
/// Nomad sent them, so a config handed back in a `TaskHandle` reaches Nomad unchanged.
public struct TaskConfig: Sendable, Equatable {
  /// Nomad's task id: `<alloc id>/<task name>/<random>`.
  public var id: String = ""
  /// The task's name in the job.
  public var name: String = ""
  public var allocID: String = ""
  public var jobName: String = ""
  public var jobID: String = ""
  public var taskGroupName: String = ""
  /// The task's environment, as Nomad built it.
  public var env: [String: String] = [:]
  /// Environment the device plugins asked for.
  public var deviceEnv: [String: String] = [:]
  public var resources = Resources()
  public var mounts: [Mount] = []
  public var devices: [Device] = []
  /// The user the task runs as (`user` in the job); empty: the driver's default.
  public var user: String = ""
  /// The allocation directory; the task directory is `<allocDir>/<name>`.
  public var allocDir: String = ""
  /// Where the task's stdout and stderr go (logmon's FIFOs).
  public var stdoutPath: String = ""
  public var stderrPath: String = ""
  /// The task's `config {}` block, go-cty msgpack encoded against the driver's task schema.
  public var msgpackDriverConfig: [UInt8] = []
  /// The group's network namespace, when the group has one.
  public var networkIsolation: NetworkIsolationSpec?

  /// What Nomad sent, for the fields above this type does not model.
  var unmodelled = Hashicorp_Nomad_Plugins_Drivers_Proto_TaskConfig()

  public init() {}
}

/// A host or CSI volume mounted into the task (Go: `drivers.MountConfig`).
public struct Mount: Sendable, Equatable {
  public var taskPath: String = ""
  public var hostPath: String = ""
  public var readonly: Bool = false
  /// `private`, `host-to-task` or `bidirectional`.
  public var propagationMode: String = ""

  public init() {}
}

/// A device a device plugin offered the task (Go: `drivers.DeviceConfig`).
public struct Device: Sendable, Equatable {
  public var taskPath: String = ""
  public var hostPath: String = ""
  /// cgroup permissions, e.g. `rwm`; empty: all.
  public var cgroupPermissions: String = ""

  public init() {}
}
