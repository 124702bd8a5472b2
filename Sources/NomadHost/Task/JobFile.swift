import Foundation
import NomadPlugin

/// Reads NomadHost's JSON job files: Nomad's JSON job format (as `nomad job run -json` takes and
/// `nomad job inspect` prints), limited to the fields NomadHost uses. Either `{"Job": {...}}` or
/// the job object itself:
///
/// ```json
/// {"Job": {
///   "ID": "hello", "Name": "hello", "Type": "service", "Namespace": "default",
///   "Meta": {"k": "v"},
///   "TaskGroups": [{
///     "Name": "app",
///     "RestartPolicy": {"Attempts": 0, "Interval": 1800000000000, "Delay": 15000000000, "Mode": "fail"},
///     "Networks": [{"Mode": "host"}],
///     "Tasks": [{
///       "Name": "app", "Driver": "milo", "User": "",
///       "Config": {"jar_path": "local/app.jar", "jvm_options": ["-Xmx64m"]},
///       "Env": {"GREETING": "hi"},
///       "Artifacts": [{"GetterSource": "/path/to/app.jar", "RelativeDest": "local/"}],
///       "Resources": {"CPU": 500, "MemoryMB": 256, "MemoryMaxMB": 512, "Cores": 0},
///       "KillTimeout": 5000000000, "KillSignal": "SIGTERM",
///       "LogConfig": {"MaxFiles": 10, "MaxFileSizeMB": 10, "Disabled": false}
///     }]
///   }]
/// }}
/// ```
///
/// Durations are nanoseconds (Nomad's JSON) or Go duration strings ("5s", "1m30s").
public enum JobFile {
  /// Parses a job file's contents.
  public static func parse(_ text: String) throws -> JobSpec {
    let document = try JSONValue.parse(text)
    let job = document["Job"] ?? document
    guard case .object = job else { throw JobFileError("the job must be a JSON object") }
    guard let id = job["ID"]?.stringValue ?? job["Name"]?.stringValue, !id.isEmpty else {
      throw JobFileError("Job.ID is required")
    }
    var type = JobSpec.JobType.service
    if let text = job["Type"]?.stringValue {
      guard let parsed = JobSpec.JobType(rawValue: text) else {
        throw JobFileError("unknown job type \(goQuote(text))")
      }
      type = parsed
    }
    guard let groupValues = job["TaskGroups"]?.arrayValue, !groupValues.isEmpty else {
      throw JobFileError("Job.TaskGroups must list at least one group")
    }
    var groups: [GroupSpec] = []
    for (index, groupValue) in groupValues.enumerated() {
      groups.append(try parseGroup(groupValue, index: index))
    }
    return JobSpec(
      id: id, name: job["Name"]?.stringValue ?? id, type: type,
      namespace: job["Namespace"]?.stringValue ?? "default", parentID: job["ParentID"]?.stringValue ?? "",
      meta: stringMap(job["Meta"]), groups: groups)
  }

  /// Reads and parses a job file.
  public static func load(path: String) throws -> JobSpec {
    let text: String
    do {
      text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
      throw JobFileError("cannot read \(path): \(error.localizedDescription)")
    }
    return try parse(text)
  }

  private static func parseGroup(_ value: JSONValue, index: Int) throws -> GroupSpec {
    guard let name = value["Name"]?.stringValue, !name.isEmpty else {
      throw JobFileError("TaskGroups[\(index)].Name is required")
    }
    var mode = GroupSpec.NetworkMode.host
    if let network = value["Networks"]?.arrayValue?.first, let text = network["Mode"]?.stringValue, !text.isEmpty {
      guard let parsed = GroupSpec.NetworkMode(rawValue: text) else {
        throw JobFileError(
          "TaskGroups[\(index)].Networks[0].Mode \(goQuote(text)) is not supported (host, bridge, none)")
      }
      mode = parsed
    }
    guard let taskValues = value["Tasks"]?.arrayValue, !taskValues.isEmpty else {
      throw JobFileError("TaskGroups[\(index)].Tasks must list at least one task")
    }
    var tasks: [TaskSpec] = []
    for (taskIndex, taskValue) in taskValues.enumerated() {
      tasks.append(try parseTask(taskValue, path: "TaskGroups[\(index)].Tasks[\(taskIndex)]"))
    }
    return GroupSpec(
      name: name, restartPolicy: try value["RestartPolicy"].map { try parseRestart($0) }, networkMode: mode,
      meta: stringMap(value["Meta"]), tasks: tasks)
  }

  private static func parseTask(_ value: JSONValue, path: String) throws -> TaskSpec {
    guard let name = value["Name"]?.stringValue, !name.isEmpty else { throw JobFileError("\(path).Name is required") }
    guard let driver = value["Driver"]?.stringValue, !driver.isEmpty else {
      throw JobFileError("\(path).Driver is required")
    }
    var config: [String: MsgpackValue]?
    if let configValue = value["Config"], configValue != .null {
      guard let members = configValue.objectValue else { throw JobFileError("\(path).Config must be an object") }
      var map: [String: MsgpackValue] = [:]
      for (key, member) in members { map[key] = member.msgpack }
      config = map
    }
    var artifacts: [ArtifactSpec] = []
    for (i, artifact) in (value["Artifacts"]?.arrayValue ?? []).enumerated() {
      guard let source = artifact["GetterSource"]?.stringValue, !source.isEmpty else {
        throw JobFileError("\(path).Artifacts[\(i)].GetterSource is required")
      }
      artifacts.append(ArtifactSpec(source: source, destination: artifact["RelativeDest"]?.stringValue ?? "local/"))
    }
    var resources = ResourcesSpec()
    if let r = value["Resources"] {
      resources.cpu = r["CPU"]?.int64Value ?? resources.cpu
      resources.memoryMB = r["MemoryMB"]?.int64Value ?? resources.memoryMB
      resources.memoryMaxMB = r["MemoryMaxMB"]?.int64Value ?? resources.memoryMaxMB
      resources.cores = Int(r["Cores"]?.int64Value ?? 0)
    }
    var logs = LogConfigSpec()
    if let l = value["LogConfig"] {
      logs.maxFiles = Int(l["MaxFiles"]?.int64Value ?? Int64(logs.maxFiles))
      logs.maxFileSizeMB = Int(l["MaxFileSizeMB"]?.int64Value ?? Int64(logs.maxFileSizeMB))
      logs.disabled = l["Disabled"]?.boolValue ?? false
    }
    return TaskSpec(
      name: name, driver: driver, user: value["User"]?.stringValue ?? "", config: config,
      env: stringMap(value["Env"]), meta: stringMap(value["Meta"]), artifacts: artifacts, resources: resources,
      killTimeout: try value["KillTimeout"].map { try duration($0, field: "\(path).KillTimeout") } ?? .seconds(5),
      killSignal: value["KillSignal"]?.stringValue ?? "", logs: logs,
      restartPolicy: try value["RestartPolicy"].map { try parseRestart($0) })
  }

  private static func parseRestart(_ value: JSONValue) throws -> RestartPolicySpec {
    var mode = RestartPolicySpec.Mode.fail
    if let text = value["Mode"]?.stringValue {
      guard let parsed = RestartPolicySpec.Mode(rawValue: text) else {
        throw JobFileError("RestartPolicy.Mode \(goQuote(text)) must be fail or delay")
      }
      mode = parsed
    }
    return RestartPolicySpec(
      attempts: Int(value["Attempts"]?.int64Value ?? 0),
      interval: try value["Interval"].map { try duration($0, field: "RestartPolicy.Interval") } ?? .seconds(1800),
      delay: try value["Delay"].map { try duration($0, field: "RestartPolicy.Delay") } ?? .seconds(15),
      mode: mode)
  }

  private static func stringMap(_ value: JSONValue?) -> [String: String] {
    var out: [String: String] = [:]
    for (key, member) in value?.objectValue ?? [] {
      switch member {
      case .string(let text): out[key] = text
      case .number(let text): out[key] = text
      case .bool(let flag): out[key] = flag ? "true" : "false"
      default: continue
      }
    }
    return out
  }

  private static func duration(_ value: JSONValue, field: String) throws -> Duration {
    switch value {
    case .number(let text):
      guard let nanos = Int64(text) ?? Double(text).map({ Int64($0) }) else {
        throw JobFileError("\(field) must be nanoseconds or a duration string")
      }
      return .nanoseconds(nanos)
    case .string(let text):
      guard let parsed = GoDuration.parse(text) else {
        throw JobFileError("\(field): invalid duration \(goQuote(text))")
      }
      return parsed
    default:
      throw JobFileError("\(field) must be nanoseconds or a duration string")
    }
  }
}

/// A job file problem.
public struct JobFileError: Error, CustomStringConvertible, Sendable {
  public var description: String
  public init(_ description: String) { self.description = description }
}
