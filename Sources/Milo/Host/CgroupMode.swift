import Foundation
import MiloSys

#if canImport(Glibc)
  import Glibc
#endif

/// How the host mounts cgroups.
public enum CgroupMode: String, Sendable, Codable {
  /// Unified hierarchy only (`/sys/fs/cgroup` is cgroup2).
  case v2
  /// Legacy per-controller hierarchies only.
  case v1
  /// Legacy controllers plus a cgroup2 mount at `/sys/fs/cgroup/unified`.
  case hybrid
  /// No usable cgroup mount.
  case none

  /// The cgroup version limits are applied with, as Nomad's client reports it in
  /// `unique.cgroup.version`: `v2` only when `/sys/fs/cgroup` itself is the unified hierarchy,
  /// so a hybrid host counts as `v1` (its controllers are v1 hierarchies); nil without cgroups.
  public var version: String? {
    switch self {
    case .v2: "v2"
    case .v1, .hybrid: "v1"
    case .none: nil
    }
  }

  static let cgroup2Magic: Int = 0x6367_7270
  static let tmpfsMagic: Int = 0x0102_1994
  static let cgroup1Magic: Int = 0x0027_e0eb

  /// Detects the mode from `root` (normally `/sys/fs/cgroup`) with statfs, as runc and crun do.
  public static func detect(root: String = "/sys/fs/cgroup") -> CgroupMode {
    guard let rootType = filesystemType(root) else { return .none }
    if rootType == cgroup2Magic { return .v2 }
    guard rootType == tmpfsMagic || rootType == cgroup1Magic else { return .none }
    if filesystemType(root + "/unified") == cgroup2Magic { return .hybrid }
    return filesystemType(root + "/memory") == cgroup1Magic ? .v1 : .none
  }

  /// Removes a task's cgroup directories (`/milo/<id>`) in every hierarchy, for containers
  /// whose creation failed half-way. Non-empty or missing directories are left alone.
  public static func removeTaskCgroups(_ cgroupsPath: String, root: String = "/sys/fs/cgroup") {
    let hierarchies = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
    for hierarchy in hierarchies + [""] {
      let base = hierarchy.isEmpty ? root : root + "/" + hierarchy
      rmdir(base + cgroupsPath)
    }
  }

  /// The path an OCI runtime must not see for `run`/`create` to work (crun rejects hybrid mode).
  public static func hiddenUnifiedMount(for mode: CgroupMode, root: String = "/sys/fs/cgroup")
    -> String?
  {
    mode == .hybrid ? root + "/unified" : nil
  }

  private static func filesystemType(_ path: String) -> Int? {
    Posix.fileSystemType(path)
  }
}
