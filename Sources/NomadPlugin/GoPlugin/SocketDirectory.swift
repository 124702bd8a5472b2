#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The private directory holding a plugin's unix socket.
enum SocketDirectory {
  /// Creates `<base>/<prefix><pid>-XXXXXX` with mode 0700.
  static func create(in base: String, prefix: String) throws -> String {
    var template = Array("\(base)/\(prefix)\(getpid())-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { buffer -> Bool in
      guard let pointer = buffer.baseAddress else { return false }
      return mkdtemp(pointer) != nil
    }
    guard made else { throw PluginServerError("mkdtemp in \(base): \(String(cString: strerror(errno)))") }
    let bytes = template.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Removes the directory and everything in it (one level: the socket).
  static func remove(_ directory: String) {
    if let dir = opendir(directory) {
      while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
          String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        if name != "." && name != ".." { unlink(directory + "/" + name) }
      }
      closedir(dir)
    }
    rmdir(directory)
  }

  /// Removes directories left behind by instances that were killed (their pid is gone).
  static func removeStale(in base: String, prefix: String) {
    guard let dir = opendir(base) else { return }
    var stale: [String] = []
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
      }
      guard name.hasPrefix(prefix) else { continue }
      let rest = name.dropFirst(prefix.count)
      guard let dash = rest.firstIndex(of: "-"), let pid = pid_t(rest[..<dash]) else { continue }
      if pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH { stale.append(base + "/" + name) }
    }
    closedir(dir)
    stale.forEach(remove)
  }
}

/// A plugin start-up failure.
struct PluginServerError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
