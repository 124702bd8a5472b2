import Glibc

/// An exclusive `flock(2)` on a lock file, shared by every process that opens the same path, and
/// removed when released so that no lock file outlives its holder. (A holder that dies leaves
/// the file, unlocked: the kernel drops a dead process's locks, and the next holder removes it.)
///
/// Removing a lock file while others wait on it is safe here: a waiter that wins the lock checks
/// that the path still names the file it locked, and otherwise opens the new one and tries again.
public struct FileLock: Sendable {
  private let fd: Int32
  private let path: String

  /// Blocks until this process holds the lock of `path`, creating the file. Throws if the file
  /// cannot be opened, e.g. its directory is missing.
  public static func acquire(_ path: String) throws(SystemError) -> FileLock {
    while true {
      let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
      guard fd >= 0 else { throw SystemError("open \(path)") }
      var locked: Int32
      repeat { locked = flock(fd, LOCK_EX) } while locked != 0 && errno == EINTR
      guard locked == 0 else {
        let error = SystemError("flock \(path)")
        close(fd)
        throw error
      }
      // The holder before us may have removed the path (or a later holder re-created it):
      // a lock on an unlinked file excludes nobody.
      var held = stat()
      var named = stat()
      if fstat(fd, &held) == 0, stat(path, &named) == 0, held.st_ino == named.st_ino, held.st_dev == named.st_dev {
        return FileLock(fd: fd, path: path)
      }
      close(fd)
    }
  }

  private init(fd: Int32, path: String) {
    self.fd = fd
    self.path = path
  }

  /// Removes the lock file and releases the lock. Call it once.
  public func release() {
    unlink(path)
    close(fd)
  }
}
