import Foundation
import MiloSupervisor

#if canImport(Glibc)
  import Glibc
#endif

/// The machine a run is measured on.
struct Machine {
  var date: String
  var cpus: Int
  var memory: String
  var kernel: String
  var cpuModel: String
  var cgroup: String
  var crun: String
  var java: String
  var javaPath: String
  var loadAverage: String
  var milo: String
  var commit: String

  static func describe(milo: String, repoRoot: String) -> Machine {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    var name = utsname()
    uname(&name)
    let kernel = withUnsafeBytes(of: &name.release) { raw in
      String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
    let meminfo = Posix.readText("/proc/meminfo") ?? ""
    let totalKB =
      meminfo.split(separator: "\n").first { $0.hasPrefix("MemTotal:") }?.split(separator: " ").dropFirst().first
      .flatMap { Double($0) } ?? 0
    let cpuModel =
      (Posix.readText("/proc/cpuinfo") ?? "").split(separator: "\n").first { $0.hasPrefix("model name") }
      .map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" }
      ?? "unknown"
    let crun =
      which("crun").flatMap { runCommand([$0, "--version"])?.output.split(separator: "\n").first }
      .map(String.init) ?? "not found"
    let javaPath = which("java").map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path } ?? "java"
    let java =
      runCommand([javaPath, "-version"])?.output.split(separator: "\n").map(String.init).prefix(3)
      .joined(separator: "; ") ?? "not found"
    let load = (Posix.readText("/proc/loadavg") ?? "").split(separator: " ").prefix(3).joined(separator: " ")
    var commit = "unknown"
    if let git = which("git"), let head = runCommand([git, "-C", repoRoot, "rev-parse", "--short", "HEAD"]),
      head.status == 0
    {
      commit = head.output.trimmingCharacters(in: .whitespacesAndNewlines)
      if let status = runCommand([git, "-C", repoRoot, "status", "--porcelain", "--untracked-files=no"]),
        !status.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
      {
        commit += " (with uncommitted changes)"
      }
    }
    if let attributes = try? FileManager.default.attributesOfItem(atPath: milo),
      let modified = attributes[.modificationDate] as? Date
    {
      commit += "; binary built \(formatter.string(from: modified))"
    }
    return Machine(
      date: formatter.string(from: Date()), cpus: sysconf(Int32(_SC_NPROCESSORS_ONLN)),
      memory: String(format: "%.1f GiB", totalKB / 1_048_576), kernel: kernel, cpuModel: cpuModel,
      cgroup: cgroupMode(), crun: crun, java: java, javaPath: javaPath, loadAverage: load, milo: milo,
      commit: commit)
  }

  var markdown: String {
    Fmt.table(
      ["", ""],
      [
        ["date (UTC)", date],
        ["nproc", "\(cpus)"],
        ["memory", memory],
        ["kernel", kernel],
        ["CPU model", cpuModel],
        ["cgroup mode", cgroup],
        ["crun", crun],
        ["Java", "\(java) (`\(javaPath)`)"],
        ["milo binary", "`\(milo)` (working tree at commit \(commit))"],
        ["load average at start (1/5/15 min)", loadAverage],
      ])
  }

  // MARK: - cgroups

  /// The filesystem type mounted at `path` (from /proc/self/mountinfo), if it is a mount point.
  static func filesystemType(_ path: String) -> String? {
    var type: String?
    for line in (Posix.readText("/proc/self/mountinfo") ?? "").split(separator: "\n") {
      let halves = line.components(separatedBy: " - ")
      guard halves.count == 2 else { continue }
      let fields = halves[0].split(separator: " ")
      guard fields.count > 4, fields[4] == path else { continue }
      type = halves[1].split(separator: " ").first.map(String.init)
    }
    return type
  }

  /// `v2`, `v1`, `hybrid` (v1 controllers plus cgroup2 at /sys/fs/cgroup/unified) or `none`.
  static func cgroupMode() -> String {
    guard let root = filesystemType("/sys/fs/cgroup") else { return "none" }
    if root == "cgroup2" { return "v2" }
    if filesystemType("/sys/fs/cgroup/unified") == "cgroup2" { return "hybrid" }
    return filesystemType("/sys/fs/cgroup/memory") == "cgroup" ? "v1" : "none"
  }

  /// The mount crun must not see on hybrid hosts (as milo hides it).
  static func hiddenCgroupMount() -> String? {
    cgroupMode() == "hybrid" ? "/sys/fs/cgroup/unified" : nil
  }
}
