import Foundation
import MiloSupervisor
import MiloSys

/// What milo could leave on the host after its tasks are gone: containers, cgroups,
/// supervisors and container inits, mounts, and per-task state directories.
public struct HostResidue: Equatable, Sendable, CustomStringConvertible {
  public var containers: [String] = []
  public var cgroups: [String] = []
  public var processes: [String] = []
  public var mounts: [String] = []
  public var taskStateDirs: [String] = []

  public init() {}

  public var isEmpty: Bool {
    containers.isEmpty && cgroups.isEmpty && processes.isEmpty && mounts.isEmpty
      && taskStateDirs.isEmpty
  }

  public var description: String {
    "containers=\(containers) cgroups=\(cgroups) processes=\(processes) mounts=\(mounts) "
      + "taskStateDirs=\(taskStateDirs)"
  }

  /// Scans for what tasks run with plugin state dir `stateDir` left behind.
  public static func scan(stateDir: String) -> HostResidue {
    let fm = FileManager.default
    var residue = HostResidue()
    residue.containers = ((try? fm.contentsOfDirectory(atPath: stateDir + "/runtime")) ?? [])
      .filter { !$0.hasPrefix(".") }.sorted()
    residue.taskStateDirs = ((try? fm.contentsOfDirectory(atPath: stateDir + "/tasks")) ?? [])
      .sorted()
    var parents = ["/sys/fs/cgroup/milo"]
    for hierarchy in (try? fm.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [] {
      parents.append("/sys/fs/cgroup/\(hierarchy)/milo")
    }
    for parent in parents {
      for child in (try? fm.contentsOfDirectory(atPath: parent)) ?? [] where child.hasPrefix("milo-") {
        residue.cgroups.append(parent + "/" + child)
      }
    }
    residue.processes = ProcessTable.pids { args in
      args.count > 1 && ["supervise", "init"].contains(args[1])
        && args.contains { $0.hasPrefix(stateDir) }
    }.map { "\($0): \(ProcessTable.arguments(of: $0).prefix(3).joined(separator: " "))" }
    // Anything still in a milo container's cgroup: the container's init and the JVM.
    for pid in ProcessTable.pids(where: { !$0.isEmpty }) {
      let cgroup = Posix.readText("/proc/\(pid)/cgroup") ?? ""
      if cgroup.contains("/milo/milo-") {
        residue.processes.append(
          "\(pid) (in a milo cgroup): \(ProcessTable.arguments(of: pid).prefix(3).joined(separator: " "))")
      }
    }
    let mountinfo = Posix.readText("/proc/self/mountinfo") ?? ""
    residue.mounts = mountinfo.split(separator: "\n").filter { $0.contains(stateDir) }.map(String.init)
    return residue
  }

  /// The mount points at or below `directory`, in mount order (from /proc/self/mounts).
  public static func mountPoints(under directory: String) -> [String] {
    let mounts = Posix.readText("/proc/self/mounts") ?? ""
    return mounts.split(separator: "\n").compactMap { line in
      let fields = line.split(separator: " ")
      guard fields.count > 1 else { return nil }
      let point = String(fields[1])
      return point == directory || point.hasPrefix(directory + "/") ? point : nil
    }
  }
}
