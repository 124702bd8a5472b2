import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

extension PluginProcess {
  /// go-plugin's `CmdRunner.Diagnose` text.
  static func diagnose(_ path: String) -> String {
    var text = """
      This usually means
        the plugin was not compiled for this architecture,
        the plugin is missing dynamic-link libraries necessary to run,
        the plugin is not executable by this process due to file permissions, or
        the plugin failed to negotiate the initial go-plugin protocol handshake

      """
    var info = stat()
    guard stat(path, &info) == 0 else { return text }
    text += "\nAdditional notes about plugin:\n"
    text += "  Path: \(path)\n"
    text += "  Mode: \(Syscall.goModeString(info.st_mode))\n"
    let owner = userName(info.st_uid)
    let current = userName(getuid())
    text += "  Owner: \(info.st_uid) [\(owner)] (current: \(getuid()) [\(current)])\n"
    text += "  Group: \(info.st_gid) [\(groupName(info.st_gid))] (current: \(getgid()) [\(groupName(getgid()))])\n"
    if let machine = elfMachine(path) {
      text += "  ELF architecture: \(machine) (current architecture: \(goArch))\n"
    }
    return text
  }

  private static var goArch: String {
    #if arch(x86_64)
      return "amd64"
    #elseif arch(arm64)
      return "arm64"
    #else
      return "unknown"
    #endif
  }

  private static func userName(_ uid: uid_t) -> String {
    guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return "?" }
    return String(cString: name)
  }

  private static func groupName(_ gid: gid_t) -> String {
    guard let entry = getgrgid(gid), let name = entry.pointee.gr_name else { return "?" }
    return String(cString: name)
  }

  private static func elfMachine(_ path: String) -> String? {
    guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? handle.close() }
    guard let header = try? handle.read(upToCount: 20), header.count == 20,
      header.starts(with: [0x7f, 0x45, 0x4c, 0x46])
    else { return nil }
    let bytes = [UInt8](header)
    let machine = UInt16(bytes[18]) | UInt16(bytes[19]) << 8
    switch machine {
    case 62: return "EM_X86_64"
    case 183: return "EM_AARCH64"
    case 3: return "EM_386"
    case 40: return "EM_ARM"
    default: return "EM_\(machine)"
    }
  }
}
