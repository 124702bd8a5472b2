/// What the plugin tells a supervisor, on its command line.
public struct SupervisorOptions: Sendable, Equatable {
  /// The task's private state directory (exit record, pid files, supervisor log).
  public var stateDir: String
  /// The OCI runtime binary (crun or runc).
  public var runtime: String
  /// The runtime's state root (`--root`).
  public var runtimeRoot: String
  /// The OCI bundle directory.
  public var bundle: String
  /// The container id.
  public var containerID: String
  /// Nomad's log FIFOs (or /dev/null).
  public var stdoutPath: String
  public var stderrPath: String
  /// Bytes buffered per stream while the log reader is slow or absent.
  public var bufferBytes: Int
  /// A mount to hide from the runtime (hybrid cgroups), if any.
  public var hideMount: String?
  /// A cgroup file with an `oom_kill N` line (memory.oom_control on v1, memory.events on v2).
  public var oomFile: String?
  /// The container's first process is `milo init`: pass it a status pipe as descriptor 3.
  public var containerInit: Bool
  /// The cgroup parent of all tasks (such as `/milo`), removed by the last task to end.
  public var cgroupParent: String?

  public init(
    stateDir: String, runtime: String, runtimeRoot: String, bundle: String, containerID: String,
    stdoutPath: String, stderrPath: String, bufferBytes: Int, hideMount: String? = nil,
    oomFile: String? = nil, containerInit: Bool = false, cgroupParent: String? = nil
  ) {
    self.stateDir = stateDir
    self.runtime = runtime
    self.runtimeRoot = runtimeRoot
    self.bundle = bundle
    self.containerID = containerID
    self.stdoutPath = stdoutPath
    self.stderrPath = stderrPath
    self.bufferBytes = bufferBytes
    self.hideMount = hideMount
    self.oomFile = oomFile
    self.containerInit = containerInit
    self.cgroupParent = cgroupParent
  }

  /// The cgroup parent, with its lock file in the runtime's state root.
  public var parent: CgroupParent? {
    cgroupParent.map { CgroupParent(path: $0, runtimeRoot: runtimeRoot) }
  }

  /// The arguments that follow `milo supervise`.
  public var arguments: [String] {
    var args = [
      "--state-dir", stateDir, "--runtime", runtime, "--runtime-root", runtimeRoot, "--bundle",
      bundle, "--id", containerID, "--stdout", stdoutPath, "--stderr", stderrPath,
      "--buffer-bytes", String(bufferBytes),
    ]
    if let hideMount { args += ["--hide-mount", hideMount] }
    if let oomFile { args += ["--oom-file", oomFile] }
    if containerInit { args += ["--container-init", "true"] }
    if let cgroupParent { args += ["--cgroup-parent", cgroupParent] }
    return args
  }

  /// Parses the arguments that follow `milo supervise`.
  public init(arguments: [String]) throws(SupervisorError) {
    var values: [String: String] = [:]
    var index = 0
    while index < arguments.count {
      let key = arguments[index]
      guard key.hasPrefix("--"), index + 1 < arguments.count else {
        throw SupervisorError("unexpected supervisor argument \(key)")
      }
      values[String(key.dropFirst(2))] = arguments[index + 1]
      index += 2
    }
    func required(_ key: String) throws(SupervisorError) -> String {
      guard let value = values[key], !value.isEmpty else {
        throw SupervisorError("missing supervisor argument --\(key)")
      }
      return value
    }
    guard let buffer = Int(try required("buffer-bytes")), buffer > 0 else {
      throw SupervisorError("--buffer-bytes must be a positive integer")
    }
    self.init(
      stateDir: try required("state-dir"), runtime: try required("runtime"),
      runtimeRoot: try required("runtime-root"), bundle: try required("bundle"),
      containerID: try required("id"), stdoutPath: try required("stdout"),
      stderrPath: try required("stderr"), bufferBytes: buffer, hideMount: values["hide-mount"],
      oomFile: values["oom-file"], containerInit: values["container-init"] == "true",
      cgroupParent: values["cgroup-parent"])
  }
}

/// A supervisor failure, with a message for the task's events and logs.
public struct SupervisorError: Error, CustomStringConvertible, Sendable {
  public var description: String
  public init(_ description: String) { self.description = description }
}
