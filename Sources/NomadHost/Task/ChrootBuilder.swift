import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Nomad v1.1.2's `TaskDir.embedDirs` (`client/allocdir/task_dir.go`): copies a `chroot_env`
/// map (host path → path inside the task dir) into a task dir, for drivers that declare chroot
/// isolation. Directories are walked level by level and recreated with the host's mode and
/// owner (`createDir`, which also chowns every parent up to the task dir itself to the owner of
/// the host's `/`); regular files are hard-linked, or copied when that fails (another file
/// system); symlinks are recreated; anything else is skipped; entries that already exist are
/// kept (a restarted task). With Nomad's default map this copies the whole of /usr, /etc and
/// /lib, which is what makes a chroot task's first start slow.
struct ChrootBuilder {
  let taskDir: String

  func embed(_ entries: [String: String]) throws {
    var subdirs: [String: String] = [:]
    for (source, dest) in entries {
      var info = stat()
      guard stat(source, &info) == 0 else {
        if errno == ENOENT { continue }
        throw Syscall.Failure(operation: "stat", path: source, code: errno)
      }
      if !Self.isDirectory(info.st_mode) {
        try createDir((dest as NSString).deletingLastPathComponent)
        try Self.linkOrCopy(source, join(dest), uid: info.st_uid, gid: info.st_gid, mode: info.st_mode & 0o777)
        continue
      }
      let destDir = join(dest)
      do {
        try createDir(dest)
      } catch {
        throw ChrootError("Couldn't create destination directory \(destDir): \(error)")
      }
      let names: [String]
      do {
        names = try FileManager.default.contentsOfDirectory(atPath: source).sorted()
      } catch {
        throw ChrootError("Couldn't read directory \(source): \(error)")
      }
      for name in names {
        let hostEntry = source + "/" + name
        let taskEntry = destDir + "/" + name
        var entry = stat()
        guard lstat(hostEntry, &entry) == 0 else { continue }
        if Self.isDirectory(entry.st_mode) {
          subdirs[hostEntry] = (dest as NSString).appendingPathComponent(name)
          continue
        }
        var existing = stat()
        if lstat(taskEntry, &existing) == 0 { continue }
        let type = entry.st_mode & S_IFMT
        if type == S_IFLNK {
          guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: hostEntry) else {
            throw ChrootError("Couldn't resolve symlink for \(source)")
          }
          if symlink(target, taskEntry) != 0 && errno != EEXIST {
            throw Syscall.Failure(operation: "Couldn't create symlink", path: taskEntry, code: errno)
          }
          continue
        }
        guard type == S_IFREG else { continue }
        try Self.linkOrCopy(hostEntry, taskEntry, uid: entry.st_uid, gid: entry.st_gid, mode: entry.st_mode & 0o777)
      }
    }
    if !subdirs.isEmpty { try embed(subdirs) }
  }

  func join(_ relative: String) -> String {
    relative.hasPrefix("/") ? taskDir + relative : taskDir + "/" + relative
  }

  /// `createDir(taskDir, relPath)`: creates `relPath` and each parent inside the task dir, root
  /// first, with the mode and owner the same path has on the host (0777 and no chown where the
  /// host has none). Existing directories keep their mode but are chowned.
  func createDir(_ relative: String) throws {
    var chain: [String] = []
    var current = (relative as NSString).standardizingPath
    if current.isEmpty { current = "/" }
    while true {
      chain.append(current)
      let parent = (current as NSString).deletingLastPathComponent
      if parent == current || parent.isEmpty { break }
      current = parent
    }
    for hostPath in chain.reversed() {
      var info = stat()
      let known = stat(hostPath, &info) == 0
      let mode: mode_t = known ? info.st_mode & 0o7777 : 0o777
      let target = join(hostPath == "/" ? "" : hostPath)
      if mkdir(target, mode) != 0 && errno != EEXIST {
        throw Syscall.Failure(operation: "mkdir", path: target, code: errno)
      }
      if known && chown(target, info.st_uid, info.st_gid) != 0 {
        throw Syscall.Failure(operation: "chown", path: target, code: errno)
      }
    }
  }

  /// `linkOrCopy`: nothing when `dst` exists; a hard link; else a copy with `mode`, chowned.
  static func linkOrCopy(_ src: String, _ dst: String, uid: uid_t, gid: gid_t, mode: mode_t) throws {
    var info = stat()
    if stat(dst, &info) == 0 { return }
    if link(src, dst) == 0 { return }
    let input = open(src, O_RDONLY | O_CLOEXEC)
    guard input >= 0 else { throw Syscall.Failure(operation: "Couldn't open src file", path: src, code: errno) }
    defer { close(input) }
    let output = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, mode)
    guard output >= 0 else {
      throw Syscall.Failure(operation: "Couldn't create destination file", path: dst, code: errno)
    }
    defer { close(output) }
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
      if count < 0 && errno == EINTR { continue }
      guard count >= 0 else { throw Syscall.Failure(operation: "Couldn't copy \(src) to", path: dst, code: errno) }
      if count == 0 { break }
      var written = 0
      while written < count {
        let n = buffer.withUnsafeBytes { write(output, $0.baseAddress?.advanced(by: written), count - written) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { throw Syscall.Failure(operation: "Couldn't copy \(src) to", path: dst, code: errno) }
        written += n
      }
    }
    guard fchown(output, uid, gid) == 0 else {
      throw Syscall.Failure(operation: "Couldn't copy \(src) to", path: dst, code: errno)
    }
  }

  static func isDirectory(_ mode: mode_t) -> Bool { mode & S_IFMT == S_IFDIR }
}

/// A chroot entry could not be embedded.
struct ChrootError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
