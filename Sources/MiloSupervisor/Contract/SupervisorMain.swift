import MiloSys

#if canImport(Glibc)
  import Glibc
#endif

/// Entry point of `supervise ...` (of `milo` and of the small `milo-task` helper): a
/// Foundation-free path, kept small in memory.
public enum SupervisorMain {
  /// The version of the plugin↔helper contract (supervisor arguments, readiness line, exit
  /// record, init status pipe). The plugin uses a helper only when it reports the same, so a
  /// stale `milo.d/milo-task` beside a newer plugin is never used. Bump on any change.
  public static let protocolVersion = SupervisorContract.protocolVersion

  public static func run(arguments: [String]) -> Int32 {
    let log: (String) -> Void = { message in
      Posix.writeAll(2, Array((HCLogLine.render(message) + "\n").utf8))
    }
    let options: SupervisorOptions
    do {
      options = try SupervisorOptions(arguments: arguments)
    } catch {
      log("invalid supervisor arguments: \(error)")
      return 2
    }
    return Supervisor(options: options, log: log).run()
  }
}

/// A plain timestamped log line for the supervisor's log file.
enum HCLogLine {
  static func render(_ message: String) -> String {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return "\(now.tv_sec).\(now.tv_nsec / 1_000_000) \(message)"
  }
}

/// The path of the running binary.
public enum SelfExecutable {
  public static func path() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard count > 0 else { return CommandLine.arguments.first ?? "milo" }
    return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}
