import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The POSIX calls NomadHost needs beyond MiloSys, with errors spelled as Go spells them
/// (NomadHost reproduces the Nomad client's texts).
enum Syscall {
  /// `strerror(code)` spelled as Go spells errno texts (lower-case first letter).
  static func errorText(_ code: Int32) -> String {
    guard let raw = strerror(code) else { return "errno \(code)" }
    let text = String(cString: raw)
    guard let first = text.first else { return text }
    return first.lowercased() + text.dropFirst()
  }

  /// A system call failure, described like Go's `*PathError` ("open <path>: <text>").
  struct Failure: Error, CustomStringConvertible {
    var operation: String
    var path: String?
    var code: Int32

    var description: String {
      if let path { return "\(operation) \(path): \(Syscall.errorText(code))" }
      return "\(operation): \(Syscall.errorText(code))"
    }
  }

  /// Reads up to `capacity` bytes; nil at EOF, throws on errors other than EINTR.
  static func read(_ fd: Int32, capacity: Int) throws(Failure) -> [UInt8]? {
    var buffer = [UInt8](repeating: 0, count: capacity)
    while true {
      let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, capacity) }
      if n < 0 {
        if errno == EINTR { continue }
        throw Failure(operation: "read", path: nil, code: errno)
      }
      if n == 0 { return nil }
      buffer.removeSubrange(n...)
      return buffer
    }
  }

  /// Whether the process runs with euid 0.
  static var isRoot: Bool { geteuid() == 0 }

  /// Sleeps the calling thread.
  static func sleep(milliseconds: Int) {
    var spec = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
    var remaining = timespec()
    while nanosleep(&spec, &remaining) != 0 && errno == EINTR { spec = remaining }
  }

  /// Go's `os.FileMode.String()` for a `st_mode` value, e.g. "-rwxr-xr-x".
  static func goModeString(_ mode: mode_t) -> String {
    var out = ""
    switch mode & S_IFMT {
    case S_IFDIR: out = "d"
    case S_IFLNK: out = "L"
    case S_IFIFO: out = "p"
    case S_IFSOCK: out = "S"
    case S_IFCHR: out = "Dc"
    case S_IFBLK: out = "D"
    default: out = ""
    }
    if mode & S_ISUID != 0 { out += "u" }
    if mode & S_ISGID != 0 { out += "g" }
    if mode & S_ISVTX != 0 { out += "t" }
    if out.isEmpty { out = "-" }
    let letters: [Character] = ["r", "w", "x"]
    for i in 0..<9 {
      let bit = mode_t(1) << mode_t(8 - i)
      out.append(mode & bit != 0 ? letters[i % 3] : "-")
    }
    return out
  }
}
