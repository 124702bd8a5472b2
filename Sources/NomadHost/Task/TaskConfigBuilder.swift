import Foundation
import NomadProto

/// Builds the `TaskConfig` sent with `StartTask`, as Nomad's `buildTaskConfig` and
/// `taskConfigToProto` do.
public enum TaskConfigBuilder {
  /// A new task ID: `<allocID>/<task>/<first 8 hex of a random UUID>` (new for every start).
  public static func newTaskID(allocID: String, task: String) -> String {
    "\(allocID)/\(task)/\(UUID().uuidString.lowercased().prefix(8))"
  }

  /// The inputs of `buildTaskConfig`.
  public struct Inputs: Sendable {
    public var context: TaskEnvironment.Context
    public var environment: [String: String]
    public var stdoutPath: String
    public var stderrPath: String
    public var networkIsolation: NetworkIsolationSpecProto?
    public var msgpackDriverConfig: [UInt8]

    public init(
      context: TaskEnvironment.Context, environment: [String: String], stdoutPath: String, stderrPath: String,
      networkIsolation: NetworkIsolationSpecProto?, msgpackDriverConfig: [UInt8]
    ) {
      self.context = context
      self.environment = environment
      self.stdoutPath = stdoutPath
      self.stderrPath = stderrPath
      self.networkIsolation = networkIsolation
      self.msgpackDriverConfig = msgpackDriverConfig
    }
  }

  /// The TaskConfig message (with a fresh ID).
  public static func build(_ inputs: Inputs, client: ClientConfig, taskID: String? = nil) -> TaskConfigProto {
    let context = inputs.context
    let resources = context.task.resources
    var config = TaskConfigProto()
    config.id = taskID ?? newTaskID(allocID: context.allocID, task: context.task.name)
    config.name = context.task.name
    config.jobName = context.job.name
    config.jobID = context.job.id
    config.taskGroupName = context.group.name
    config.namespace = context.job.namespace
    config.nodeName = client.nodeName
    config.nodeID = client.nodeID
    config.env = inputs.environment
    config.user = context.task.user
    config.allocDir = context.allocDir.path
    config.stdoutPath = inputs.stdoutPath
    config.stderrPath = inputs.stderrPath
    config.allocID = context.allocID
    config.msgpackDriverConfig = Data(inputs.msgpackDriverConfig)
    if let spec = inputs.networkIsolation { config.networkIsolationSpec = spec }

    var allocated = Hashicorp_Nomad_Plugins_Drivers_Proto_AllocatedTaskResources()
    allocated.cpu.cpuShares = resources.cpu
    allocated.memory.memoryMb = resources.memoryMB
    allocated.memory.memoryMaxMb = resources.memoryMaxMB
    allocated.networks = []
    var linux = Hashicorp_Nomad_Plugins_Drivers_Proto_LinuxResources()
    linux.memoryLimitBytes = max(resources.memoryMB, resources.memoryMaxMB) * 1024 * 1024
    linux.cpuShares = resources.cpu
    linux.cpusetCpus = context.reservedCores.map(String.init).joined(separator: ",")
    let compute = client.topology.usableComputeMHz
    linux.percentTicks = compute > 0 ? Double(resources.cpu) / Double(compute) : 0
    linux.cpusetCgroup = client.cgroupMode.linuxResourcesPath(
      allocID: context.allocID, task: context.task.name, reserveCores: !context.reservedCores.isEmpty)
    config.resources.allocatedResources = allocated
    config.resources.linuxResources = linux
    config.resources.ports = []
    return config
  }

  /// `NetworkIsolationSpec{mode: GROUP, path: /var/run/netns/<allocID>, labels: {}}`.
  public static func groupNetworkIsolation(path: String) -> NetworkIsolationSpecProto {
    var spec = NetworkIsolationSpecProto()
    spec.mode = .group
    spec.path = path
    return spec
  }
}
