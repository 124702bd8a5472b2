import Foundation
import MiloSupervisor
import MiloSys

#if canImport(Glibc)
  import Glibc
#endif

/// The milo binary as it is mounted into a container to run `milo init` there.
///
/// The binary is bound read-only at `/.milo/init`. A build that links shared libraries from
/// outside the directories every container already gets (a development build linking the Swift
/// runtime from its toolchain) also needs those directories, bound read-only at the same paths.
public struct InitBinary: Sendable, Equatable {
  /// Where the binary appears in the container.
  public static let containerPath = "/.milo/init"

  /// The binary on the host.
  public var hostPath: String
  /// Directories of shared libraries the binary loads that containers do not otherwise see.
  public var libraryDirs: [String]

  public init(hostPath: String, libraryDirs: [String] = []) {
    self.hostPath = hostPath
    self.libraryDirs = libraryDirs
  }

  /// The running binary, if every task user can execute it; nil (tasks run without an init)
  /// otherwise, for the reason `problem(with:)` gives.
  public static func current(executable: String) -> InitBinary? {
    guard problem(with: executable) == nil else { return nil }
    let maps = Posix.readText("/proc/self/maps") ?? ""
    return InitBinary(hostPath: executable, libraryDirs: foreignLibraryDirs(maps: maps))
  }

  /// Why task users could not run `executable` in their containers, or nil when they can.
  public static func problem(with executable: String) -> String? {
    var info = stat()
    guard stat(executable, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
      return "\(executable) is not a regular file"
    }
    guard info.st_mode & S_IXOTH != 0 else {
      return "\(executable) is not executable by other users; make it mode 0755"
    }
    let noexec: UInt = 8  // ST_NOEXEC (an enum in glibc's headers, not visible to Swift)
    var volume = statvfs()
    if statvfs(executable, &volume) == 0 && volume.f_flag & noexec != 0 {
      return "\(executable) is on a filesystem mounted noexec; install it on one that allows execution"
    }
    return nil
  }

  /// Directories of the shared objects in a `/proc/<pid>/maps` text that are outside the host
  /// trees bound into every container (/usr and the merged-/usr links).
  static func foreignLibraryDirs(maps: String) -> [String] {
    var dirs = Set<String>()
    for line in maps.split(separator: "\n") {
      guard let slash = line.firstIndex(of: "/") else { continue }
      let path = String(line[slash...])
      guard path.contains(".so"), !path.hasSuffix(" (deleted)") else { continue }
      let dir = (path as NSString).deletingLastPathComponent
      let covered = ["/usr/", "/lib/", "/lib64/", "/lib32/", "/libx32/"].contains { (dir + "/").hasPrefix($0) }
      if !covered { dirs.insert(dir) }
    }
    return dirs.sorted()
  }

  /// Whether `pid` is a container's `milo init` (which forwards every signal it can catch).
  public static func runs(pid: Int32) -> Bool {
    guard let raw = Posix.readFile("/proc/\(pid)/cmdline", limit: 256) else { return false }
    return raw.split(separator: 0, maxSplits: 1).first.map { Array($0) } == Array(containerPath.utf8)
  }

  /// The container's mounts for the binary and its libraries.
  var mounts: [OCISpec.Mount] {
    [.bind(hostPath, at: Self.containerPath, readOnly: true)]
      + libraryDirs.map { .bind($0, readOnly: true) }
  }
}
