import Foundation
import MiloSupervisor
import MiloSys

/// Reads the host's process table from /proc.
public enum ProcessTable {
  /// The command line of `pid`, split at NULs; empty when it has gone.
  public static func arguments(of pid: Int32) -> [String] {
    guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return [] }
    return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
  }

  /// The PIDs whose command lines satisfy `matches`.
  public static func pids(where matches: ([String]) -> Bool) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap(Int32.init).filter { matches(arguments(of: $0)) }.sorted()
  }

  /// A field of `/proc/<pid>/smaps_rollup` (e.g. "Pss", "Rss") in KiB; nil when unreadable.
  public static func smapsRollup(_ pid: Int32, field: String) -> Int? {
    guard let text = Posix.readText("/proc/\(pid)/smaps_rollup")
    else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
      return Int(line.dropFirst(field.count + 1).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
    }
    return nil
  }

  /// `MemAvailable` from /proc/meminfo, in KiB.
  public static func memAvailable() -> Int {
    let text = Posix.readText("/proc/meminfo") ?? ""
    for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
      return Int(line.dropFirst(13).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "") ?? 0
    }
    return 0
  }
}
