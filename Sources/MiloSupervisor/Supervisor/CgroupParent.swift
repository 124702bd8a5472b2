#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The cgroup that holds every task's cgroup (`/milo`), in each hierarchy: the unified one on
/// cgroup v2, one per controller on v1 and hybrid hosts.
///
/// The runtime creates the parent when it creates a task's cgroup and leaves it behind when it
/// deletes the task's. The last task to end removes it. Starts and removal exclude each other
/// with a `flock(2)` on `lockFile`: a start holds it shared from `crun run` until its cgroup
/// exists, and a removal takes it exclusively without waiting, so it skips while any start is
/// under way (that task will remove the parent when it ends). `rmdir(2)` removes only an empty
/// cgroup, so a parent that still holds other tasks' cgroups stays.
public struct CgroupParent: Sendable, Equatable {
  /// milo's parent cgroup, below each hierarchy's root.
  public static let milo = "/milo"

  /// A task container's cgroup path (the OCI `cgroupsPath`), below milo's parent.
  public static func taskPath(_ containerID: String) -> String { milo + "/" + containerID }

  /// The parent's path below each hierarchy's root, such as `/milo`.
  public var path: String
  /// The lock file shared by every start and removal on this host.
  public var lockFile: String
  /// Where the hierarchies are mounted.
  public var root: String

  public init(path: String, lockFile: String, root: String = "/sys/fs/cgroup") {
    self.path = path
    self.lockFile = lockFile
    self.root = root
  }

  /// `path`, locked with a file in the runtime's state root (shared by the plugin's tasks).
  public init(path: String = CgroupParent.milo, runtimeRoot: String) {
    self.init(path: path, lockFile: runtimeRoot + "/.cgroup-parent.lock")
  }

  /// Runs `body` (which creates a task's cgroup) holding the lock shared. Without the lock
  /// file (for instance a read-only state dir) it runs `body` anyway.
  public func whileCreating<T>(_ body: () throws -> T) rethrows -> T {
    let fd = open(lockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    defer { if fd >= 0 { close(fd) } }
    if fd >= 0 {
      while flock(fd, LOCK_SH) != 0 && errno == EINTR {}
    }
    return try body()
  }

  /// Removes the parent from every hierarchy where it is empty, unless a start holds the lock.
  /// Returns the directories it removed.
  @discardableResult
  public func removeIfUnused() -> [String] {
    let fd = open(lockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    guard fd >= 0 else { return [] }
    defer { close(fd) }
    guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return [] }
    var removed: [String] = []
    for directory in directories() where rmdir(directory) == 0 {
      removed.append(directory)
    }
    return removed
  }

  /// The parent's directory in each hierarchy that exists: `root + path` (cgroup v2) and
  /// `root/<hierarchy> + path` (v1 and hybrid).
  public func directories() -> [String] {
    var result: [String] = []
    if isDirectory(root + path) { result.append(root + path) }
    guard let dir = opendir(root) else { return result }
    defer { closedir(dir) }
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      guard name != ".", name != "..", !name.isEmpty else { continue }
      let candidate = root + "/" + name + path
      if isDirectory(candidate) { result.append(candidate) }
    }
    return result
  }

  private func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
  }
}
