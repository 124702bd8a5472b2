import Foundation
import Milo
import MiloSupervisor
import MiloSys

#if canImport(Glibc)
  import Glibc
#endif

/// The container milo built for a task, captured from its bundle while the task ran, so the
/// baselines can run the same JVM in an identical container (same rootfs binds, namespaces,
/// user, limits, environment, command) without milo: `crun run` in the foreground, whose
/// process inherits crun's stdout, exactly as Nomad's java driver gives the JVM the logmon FIFO
/// as its stdout.
struct ContainerTemplate: Sendable {
  /// config.json as milo wrote it.
  var configJSON: Data
  /// The rootfs skeleton's symlinks (name → target).
  var rootfsLinks: [String: String]
  /// `process.args` as milo wrote them, without the `milo init` in front of the JVM.
  var args: [String]
  /// `/.milo/init init` when milo runs the JVM under its container init (kept in the clones, so
  /// they are the same container; the JVM's stdout is still the FIFO, as the init passes its
  /// descriptors on).
  var initPrefix: [String] = []
  var runtime: String
  /// The cgroup2 mount hidden from crun on hybrid hosts (milo does the same).
  var hideMount: String?

  /// The Java binary the task ran.
  var java: String { args.first ?? "java" }

  /// `process.args` up to and including the JAR (`java <jvm options> -jar <jar>`).
  var javaPrefix: [String] {
    guard let index = args.firstIndex(of: "-jar"), index + 1 < args.count else { return args }
    return Array(args[...(index + 1)])
  }

  /// The JVM options (between the binary and `-jar`).
  var jvmOptions: [String] { Array(javaPrefix.dropFirst().dropLast(2)) }

  /// Reads a running milo task's bundle.
  static func capture(bundleDir: String) throws -> ContainerTemplate {
    let path = bundleDir + "/config.json"
    guard let data = FileManager.default.contents(atPath: path) else {
      throw BenchError("cannot read \(path) (capture the template while the task is running)")
    }
    guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
      let process = object["process"] as? [String: Any], let args = process["args"] as? [String]
    else { throw BenchError("unexpected config.json in \(bundleDir)") }
    var links: [String: String] = [:]
    let rootfs = bundleDir + "/rootfs"
    for name in (try? FileManager.default.contentsOfDirectory(atPath: rootfs)) ?? [] {
      if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: rootfs + "/" + name) {
        links[name] = target
      }
    }
    guard let runtime = Environment.executable(named: "crun") else { throw BenchError("crun not found on PATH") }
    let initPrefix = args.first == "/.milo/init" ? Array(args.prefix(2)) : []
    return ContainerTemplate(
      configJSON: data, rootfsLinks: links, args: Array(args.dropFirst(initPrefix.count)), initPrefix: initPrefix,
      runtime: runtime, hideMount: CgroupMode.hiddenUnifiedMount(for: .detect()))
  }
}

/// Runs JVMs without milo: on the host, or in a clone of milo's container.
final class DirectRunner: Sendable {
  /// Where the clones' bundles and crun's state live (below the session's state dir).
  let root: String
  let template: ContainerTemplate
  /// The cgroup parent of the clones (`/milo-bench/<id>`), removed by `cleanup()`.
  static let cgroupParent = "milo-bench"

  init(stateDir: String, template: ContainerTemplate) throws {
    self.root = stateDir + "/direct"
    self.template = template
    try FileManager.default.createDirectory(atPath: root + "/runtime", withIntermediateDirectories: true)
  }

  /// A container process started with `crun run` in the foreground.
  struct Container {
    var id: String
    var pid: pid_t
    /// Monotonic time just before `crun run` was spawned (after the bundle was written).
    var spawnedAt: UInt64
  }

  /// Writes a bundle cloned from the template with `args` after `java <options> -jar <jar>` and
  /// starts it with `crun run` (foreground) with the given stdout and stderr descriptors.
  func start(args: [String], stdout: Int32, stderr: Int32) throws -> Container {
    let id = "bench-" + UUID().uuidString.prefix(12).lowercased()
    let bundle = root + "/" + id
    guard var object = try JSONSerialization.jsonObject(with: template.configJSON) as? [String: Any],
      var process = object["process"] as? [String: Any], var linux = object["linux"] as? [String: Any]
    else { throw BenchError("bad template") }
    process["args"] = template.initPrefix + template.javaPrefix + args
    object["process"] = process
    linux["cgroupsPath"] = "/\(Self.cgroupParent)/\(id)"
    object["linux"] = linux
    object["hostname"] = id
    try FileManager.default.createDirectory(atPath: bundle + "/rootfs", withIntermediateDirectories: true)
    for (name, target) in template.rootfsLinks {
      try FileManager.default.createSymbolicLink(atPath: bundle + "/rootfs/" + name, withDestinationPath: target)
    }
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    try data.write(to: URL(fileURLWithPath: bundle + "/config.json"))
    let spawnedAt = Clock.mono()
    let pid = try Spawn.start(
      RuntimeCommand(path: template.runtime, root: root + "/runtime").runAttachedArguments(
        containerID: id, bundle: bundle),
      environment: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"],
      stdio: Spawn.Stdio(stdin: -1, stdout: stdout, stderr: stderr), hideMount: template.hideMount)
    return Container(id: id, pid: pid, spawnedAt: spawnedAt)
  }

  /// Waits for `crun run` to exit (on a separate thread) and removes the container and bundle.
  func finish(_ container: Container) async -> Int32 {
    let pid = container.pid
    let status = await Blocking.run { Spawn.waitFor(pid) }
    _ = try? RuntimeCommand(path: template.runtime, root: root + "/runtime").delete(containerID: container.id)
    try? FileManager.default.removeItem(atPath: root + "/" + container.id)
    CgroupMode.removeTaskCgroups("/\(Self.cgroupParent)/\(container.id)")
    return WaitStatus(status).shellExitCode
  }

  /// Removes the clones' cgroup parent (after every clone is gone) and the bundles' root.
  func cleanup() {
    CgroupMode.removeTaskCgroups("/\(Self.cgroupParent)")
    try? FileManager.default.removeItem(atPath: root)
  }
}

/// Descriptor helpers.
enum Descriptors {
  /// Opens a FIFO for writing (blocks until a reader has it open).
  static func openFifoForWriting(_ path: String) throws -> Int32 {
    while true {
      let fd = open(path, O_WRONLY | O_CLOEXEC)
      if fd >= 0 { return fd }
      if errno != EINTR { throw BenchError("open \(path): \(String(cString: strerror(errno)))") }
    }
  }

  static func openForWriting(_ path: String) throws -> Int32 {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw BenchError("open \(path): \(String(cString: strerror(errno)))") }
    return fd
  }
}
