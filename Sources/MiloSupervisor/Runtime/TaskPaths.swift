import MiloSys

/// The on-disk layout of one task under milo's `state_dir`, and its cgroup path.
///
/// ```
/// <state_dir>/runtime/                 the OCI runtime's state root (--root)
/// <state_dir>/tasks/<id>/              the task's private state directory
/// <state_dir>/tasks/<id>.lock          the container id's lock, while a plugin instance holds it
///   bundle/                            the OCI bundle
///   container.pid                      the container's first process (runtime --pid-file)
///   exit                               the supervisor's ExitRecord
///   supervisor.log                     the supervisor's log
///   task-id                            the Nomad task id this directory was made for
///   exec-<token>.pid / .log            one exec session's pid file and runtime log
///   console-<token>.sock               one exec session's console socket
/// ```
public struct TaskPaths: Sendable, Equatable {
  /// The task's private state directory, `<state_dir>/tasks/<container id>`.
  public var stateDir: String
  /// The OCI runtime's state root, `<state_dir>/runtime`.
  public var runtimeRoot: String
  /// The container id.
  public var containerID: String

  /// The layout of `containerID` under milo's `state_dir`.
  public init(stateDir pluginStateDir: String, containerID: String) {
    self.stateDir = pluginStateDir + "/tasks/" + containerID
    self.runtimeRoot = pluginStateDir + "/runtime"
    self.containerID = containerID
  }

  /// The layout from a task's state directory and runtime root as recorded (driver state).
  public init(taskStateDir: String, runtimeRoot: String, containerID: String) {
    self.stateDir = taskStateDir
    self.runtimeRoot = runtimeRoot
    self.containerID = containerID
  }

  /// The OCI bundle directory.
  public var bundle: String { stateDir + "/bundle" }
  /// The container's first process, written by the runtime's `--pid-file`.
  public var pidFile: String { stateDir + "/container.pid" }
  /// The supervisor's durable exit record.
  public var exitRecord: String { stateDir + "/exit" }
  /// The supervisor's log file.
  public var supervisorLog: String { stateDir + "/supervisor.log" }
  /// The lock file that serialises starts, destroys and leftover cleanup of the container id
  /// across plugin instances; it exists only while held (`FileLock`).
  public var lockFile: String { stateDir + ".lock" }
  /// The file naming the Nomad task id the state directory belongs to.
  public var ownerFile: String { Self.ownerFile(stateDir) }
  /// The runtime's own state for the container (present while the runtime knows it).
  public var runtimeState: String { runtimeRoot + "/" + containerID }
  /// The container's cgroup path below each hierarchy's root, `/milo/<id>`.
  public var cgroup: String { CgroupParent.taskPath(containerID) }

  /// An exec session's pid file.
  public func execPidFile(_ token: String) -> String { stateDir + "/exec-\(token).pid" }
  /// An exec session's runtime log (JSON lines).
  public func execLog(_ token: String) -> String { stateDir + "/exec-\(token).log" }
  /// An exec session's console socket (when the path is short enough for a socket address).
  public func consoleSocket(_ token: String) -> String { stateDir + "/console-\(token).sock" }

  /// The owner file of a task state directory.
  public static func ownerFile(_ taskStateDir: String) -> String { taskStateDir + "/task-id" }
}
