import Foundation
import MiloSupervisor
import MiloSys

/// What milo could leave behind on the host, to prove it leaves nothing.
struct HostResidue: Equatable, CustomStringConvertible {
  var containers: [String]
  var cgroups: [String]
  var supervisors: [String]
  var mounts: [String]
  var fifos: [String]

  var isEmpty: Bool {
    containers.isEmpty && cgroups.isEmpty && supervisors.isEmpty && mounts.isEmpty && fifos.isEmpty
  }

  var description: String {
    "containers=\(containers) cgroups=\(cgroups) supervisors=\(supervisors) mounts=\(mounts) fifos=\(fifos)"
  }

  /// Scans for leftovers of tasks run with `stateDir` (cgroups of containers whose id names one of
  /// `allocIDs`; all milo cgroups when nil), and FIFOs below `fifoRoot`.
  static func scan(stateDir: String, allocIDs: [String]? = nil, fifoRoot: String? = nil) -> HostResidue {
    func ours(_ container: String) -> Bool {
      guard container.hasPrefix("milo-") else { return false }
      guard let allocIDs else { return true }
      return allocIDs.contains { container.hasPrefix("milo-" + $0) }
    }
    let fm = FileManager.default
    let runtimeRoot = stateDir + "/runtime"
    let containers = ((try? fm.contentsOfDirectory(atPath: runtimeRoot)) ?? []).filter { !$0.hasPrefix(".") }
    var cgroups: [String] = []
    for hierarchy in (try? fm.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [] {
      let base = "/sys/fs/cgroup/\(hierarchy)/milo"
      for child in (try? fm.contentsOfDirectory(atPath: base)) ?? [] where ours(child) {
        if isDirectory(base + "/" + child) { cgroups.append("\(hierarchy)/milo/\(child)") }
      }
    }
    for child in (try? fm.contentsOfDirectory(atPath: "/sys/fs/cgroup/milo")) ?? [] where ours(child) {
      cgroups.append("milo/\(child)")
    }
    var supervisors: [String] = []
    for pid in (try? fm.contentsOfDirectory(atPath: "/proc")) ?? [] where Int(pid) != nil {
      guard let raw = Posix.readFile("/proc/\(pid)/cmdline") else { continue }
      let args = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
      if args.count > 3, args[1] == "supervise", args.contains(stateDir + "/runtime") {
        supervisors.append(pid)
      }
    }
    let mounts = (Posix.readText("/proc/self/mountinfo") ?? "").split(separator: "\n")
      .filter { $0.contains(stateDir) }.map(String.init)
    var fifos: [String] = []
    if let fifoRoot, let walker = fm.enumerator(atPath: fifoRoot) {
      for case let path as String in walker where path.hasSuffix(".fifo") {
        fifos.append(path)
      }
    }
    return HostResidue(
      containers: containers.sorted(), cgroups: cgroups.sorted(), supervisors: supervisors,
      mounts: mounts, fifos: fifos)
  }

  /// milo's cgroup parent directories that hold no cgroup (which no task should leave).
  static func emptyCgroupParents(runtimeRoot: String) -> [String] {
    CgroupParent(runtimeRoot: runtimeRoot).directories().filter { parent in
      let children = (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
      return !children.contains { isDirectory(parent + "/" + $0) }
    }
  }

  private static func isDirectory(_ path: String) -> Bool {
    var isDir: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
  }
}
