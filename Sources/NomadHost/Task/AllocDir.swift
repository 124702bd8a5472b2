import Foundation
import MiloSys
import NomadProto

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// How a driver isolates a task's filesystem (`DriverCapabilities.fs_isolation`).
public enum FSIsolation: String, Sendable {
  case none, chroot, image, unveil

  public init(_ proto: DriverCapabilitiesProto.FSIsolation) {
    switch proto {
    case .chroot: self = .chroot
    case .image: self = .image
    case .unveil: self = .unveil
    default: self = .none
    }
  }
}

/// An allocation directory laid out as Nomad v1.1.2's `allocdir` does.
///
/// ```
/// <data_dir>/alloc/<alloc_id>/            0755
///   alloc/ {logs,tmp,data}/               0777 (owned by nobody when root)
///   <task>/                               0777
///     local/ 0777, tmp/ 1777, secrets/ 0777 (a 1 MiB noexec tmpfs as root)
///     chroot isolation only: alloc/ (a bind mount of the shared alloc dir) and the chroot_env
///     entries (/bin, /etc, /lib, /usr...) hard-linked or copied in
/// ```
public struct AllocDir: Sendable {
  /// `<data_dir>/alloc/<alloc_id>`.
  public let path: String
  public let allocID: String

  public init(allocRoot: String, allocID: String) {
    self.allocID = allocID
    self.path = "\(allocRoot)/\(allocID)"
  }

  /// `alloc/` (the shared dir).
  public var sharedDir: String { "\(path)/alloc" }
  /// `alloc/logs`.
  public var logDir: String { "\(path)/alloc/logs" }
  /// `alloc/data`.
  public var dataDir: String { "\(path)/alloc/data" }
  /// Where NomadHost keeps its own state for this alloc (job, handles, task states).
  public var stateDir: String { "\(path)/.nomad-host" }

  /// The paths of one task's directory.
  public struct TaskDir: Sendable {
    public let dir: String
    public var local: String { "\(dir)/local" }
    public var secrets: String { "\(dir)/secrets" }
    public var tmp: String { "\(dir)/tmp" }
    /// `<task>/alloc` (chroot isolation: the shared alloc dir bound here).
    public var sharedTaskDir: String { "\(dir)/alloc" }
  }

  public func taskDir(_ task: String) -> TaskDir { TaskDir(dir: "\(path)/\(task)") }

  /// `AllocDir.Build`.
  public func build() throws {
    try FileManager.default.createDirectory(
      atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
    try Self.allocMkdirAll(sharedDir, mode: 0o777)
    for name in ["logs", "tmp", "data"] { try Self.allocMkdirAll("\(sharedDir)/\(name)", mode: 0o777) }
    try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
  }

  /// `TaskDir.Build(createChroot: isolation == chroot, chroot)` as the `task_dir` hook calls it:
  /// `local/`, `tmp/`, `secrets/` (a tmpfs when `mountTmpfs`); for chroot isolation only, the
  /// shared alloc dir bind-mounted at `<task>/alloc` (when `bindMount`) and the `chroot` entries
  /// (host path → path in the task dir) embedded by hard link, else copy. None and image
  /// isolation get neither: a driver with image isolation binds the shared alloc dir itself.
  public func buildTaskDir(
    _ task: String, isolation: FSIsolation, chroot: [String: String] = ClientConfig.defaultChrootEnv,
    mountTmpfs: Bool, bindMount: Bool
  ) throws {
    let dir = taskDir(task)
    let createChroot = isolation == .chroot
    try Self.allocMkdirAll(dir.dir, mode: 0o777)
    try Self.allocMkdirAll(dir.local, mode: 0o777)
    try Self.allocMkdirAll(dir.tmp, mode: 0o1777)
    if createChroot && bindMount {
      if Self.isEmptyOrMissing(dir.sharedTaskDir) {
        try Self.bind(sharedDir, to: dir.sharedTaskDir)
      }
    }
    try Self.makeSecretsDir(dir.secrets, sizeMB: 1, tmpfs: mountTmpfs)
    if createChroot {
      try ChrootBuilder(taskDir: dir.dir).embed(chroot)
    }
  }

  /// `AllocDir.UnmountAll` for every task dir: the shared alloc bind (unmounted, then removed),
  /// the secrets dir (its tmpfs unmounted, then removed, so secrets do not outlive the alloc),
  /// and `dev/`, `proc/`.
  public func unmountAll() {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return }
    for name in names where name != "alloc" && !name.hasPrefix(".") {
      let dir = taskDir(name)
      for mounted in [dir.sharedTaskDir, dir.secrets, "\(dir.dir)/dev", "\(dir.dir)/proc"]
      where Self.exists(mounted) {
        // `unlinkDir`: an unmounted dir (EINVAL) is fine; any other failure keeps the dir.
        if umount2(mounted, 0) != 0 && errno != EINVAL && errno != ENOENT { continue }
        try? FileManager.default.removeItem(atPath: mounted)
      }
    }
  }

  /// Unmounts everything and removes the directory (Nomad's alloc GC).
  public func destroy() {
    unmountAll()
    try? FileManager.default.removeItem(atPath: path)
  }

  // MARK: - Helpers

  /// `allocMkdirAll`: MkdirAll, then `chmod(mode | 0777)` and, as root, chown to nobody.
  static func allocMkdirAll(_ path: String, mode: mode_t) throws {
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    try dropPermissions(path, mode: mode)
  }

  static func dropPermissions(_ path: String, mode: mode_t) throws {
    guard chmod(path, mode | 0o777) == 0 else {
      throw Syscall.Failure(operation: "Chmod(\(path)) failed: chmod", path: path, code: errno)
    }
    guard geteuid() == 0 else { return }
    guard let nobody = getpwnam("nobody") else {
      throw Syscall.Failure(operation: "Unable to find nobody user", path: nil, code: ENOENT)
    }
    guard chown(path, nobody.pointee.pw_uid, nobody.pointee.pw_gid) == 0 else {
      throw Syscall.Failure(operation: "Couldn't change owner/group of \(path): chown", path: path, code: errno)
    }
  }

  /// `createSecretDir` + `dropDirPermissions`.
  static func makeSecretsDir(_ path: String, sizeMB: Int, tmpfs: Bool) throws {
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    if tmpfs && geteuid() == 0 {
      let marker = "\(path)/.nomad-mount"
      if access(marker, F_OK) != 0 {
        guard mount("tmpfs", path, "tmpfs", UInt(MS_NOEXEC), "size=\(sizeMB)m") == 0 else {
          throw Syscall.Failure(operation: "mount", path: path, code: errno)
        }
        let fd = open(marker, O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw Syscall.Failure(operation: "open", path: marker, code: errno) }
        close(fd)
      }
    }
    try dropPermissions(path, mode: 0o777)
  }

  /// `linkDir`: MkdirAll(0777) then a bind mount.
  static func bind(_ source: String, to target: String) throws {
    try FileManager.default.createDirectory(
      atPath: target, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
    guard mount(source, target, "", UInt(MS_BIND), nil) == 0 else {
      throw Syscall.Failure(operation: "Failed to mount shared directory for task: mount", path: target, code: errno)
    }
  }

  /// `pathExists` (stat follows symlinks).
  static func exists(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0
  }

  static func isEmptyOrMissing(_ path: String) -> Bool {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: path) else { return true }
    return entries.isEmpty
  }

  /// Whether `path` is a mount point (listed in /proc/self/mountinfo; bind mounts included).
  static func isMountPoint(_ path: String) -> Bool {
    let resolved = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    guard let text = Posix.readText("/proc/self/mountinfo") else { return false }
    for line in text.split(separator: "\n") {
      let fields = line.split(separator: " ")
      guard fields.count > 4 else { continue }
      let point = String(fields[4]).replacingOccurrences(of: "\\040", with: " ")
      if point == resolved || point == path { return true }
    }
    return false
  }
}
