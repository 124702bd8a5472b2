import Foundation
import Milo
import MiloSupervisor
import MiloSys

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
      Environment.executable(named: "crun").flatMap {
        runCommand(RuntimeCommand(path: $0).versionArguments)?.output.split(separator: "\n").first
      }
      .map(String.init) ?? "not found"
    let javaPath =
      Environment.executable(named: "java").map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path } ?? "java"
    let java =
      runCommand([javaPath, "-version"])?.output.split(separator: "\n").map(String.init).prefix(3)
      .joined(separator: "; ") ?? "not found"
    let load = (Posix.readText("/proc/loadavg") ?? "").split(separator: " ").prefix(3).joined(separator: " ")
    var commit = "unknown"
    if let git = Environment.executable(named: "git"),
      let head = runCommand([git, "-C", repoRoot, "rev-parse", "--short", "HEAD"]),
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
      cgroup: CgroupMode.detect().rawValue, crun: crun, java: java, javaPath: javaPath, loadAverage: load, milo: milo,
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
}
