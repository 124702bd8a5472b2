import Foundation
import MiloSys

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Nomad's cgroups mode detection (`client/lib/cgroupslib`): v1 when /sys/fs/cgroup is a tmpfs
/// (and we are root), v2 when it is cgroup2, otherwise off.
public enum NomadCgroupMode: String, Sendable {
  case off, v1, v2

  /// Detects the mode from /proc/self/mountinfo.
  public static func detect() -> NomadCgroupMode {
    guard let text = Posix.readText("/proc/self/mountinfo") else { return .off }
    for line in text.split(separator: "\n") {
      let tokens = Set(line.split(separator: " ").map(String.init))
      guard tokens.contains("/sys/fs/cgroup") else { continue }
      if tokens.contains("tmpfs") { return geteuid() == 0 ? .v1 : .off }
      if tokens.contains("cgroup2") { return .v2 }
    }
    return .off
  }

  /// `NomadCgroupParent`: "/nomad" on v1, "nomad.slice" otherwise.
  public var parent: String { self == .v1 ? "/nomad" : "nomad.slice" }

  /// `LinuxResourcesPath(allocID, task, reserveCores)`.
  public func linuxResourcesPath(allocID: String, task: String, reserveCores: Bool) -> String {
    switch self {
    case .v1:
      let partition = reserveCores ? "reserve" : "share"
      return reserveCores
        ? "/sys/fs/cgroup/cpuset\(parent)/\(partition)/\(allocID).\(task)"
        : "/sys/fs/cgroup/cpuset\(parent)/\(partition)"
    case .v2:
      let partition = reserveCores ? "reserve.slice" : "share.slice"
      return "/sys/fs/cgroup/\(parent)/\(partition)/\(allocID).\(task).scope"
    case .off:
      return "/sys/fs/cgroup/\(parent)/\(allocID).\(task).scope"
    }
  }
}
