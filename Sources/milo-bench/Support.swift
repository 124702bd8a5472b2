import Foundation
import MiloSupervisor
import MiloSys
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A benchmark could not run (setup failed, a task misbehaved, a timeout passed).
struct BenchError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// The repository (three levels above this file), for the default paths.
enum Repo {
  static let root: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
  }()
}

// MARK: - Clocks

enum Clock {
  /// CLOCK_MONOTONIC in nanoseconds (intervals).
  static func mono() -> UInt64 { Posix.monotonicNanos() }
  /// CLOCK_REALTIME in nanoseconds (what the JVM's `Instant.now()` reads).
  static func wall() -> Int64 { Posix.wallNanos() }
  static func ms(_ nanos: UInt64) -> Double { Double(nanos) / 1e6 }
  static func ms(_ nanos: Int64) -> Double { Double(nanos) / 1e6 }
}

/// Polls `condition` every `every` until it holds or `timeout` passes; returns whether it held.
func waitUntil(
  timeout: Duration, every: Duration = .milliseconds(5), _ condition: () -> Bool
) async -> Bool {
  let deadline = ContinuousClock.now + timeout
  while !condition() {
    if ContinuousClock.now >= deadline { return false }
    try? await Task.sleep(for: every)
  }
  return true
}

// MARK: - Statistics

enum Stats {
  /// The median (mean of the two middle values for an even count).
  static func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  }

  /// The `p`-th percentile (0...100), nearest-rank method.
  static func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
    return sorted[Swift.min(Swift.max(rank, 1), sorted.count) - 1]
  }

  static func min(_ values: [Double]) -> Double { values.min() ?? .nan }
  static func max(_ values: [Double]) -> Double { values.max() ?? .nan }
}

// MARK: - Formatting

enum Fmt {
  static func num(_ value: Double, _ digits: Int = 1) -> String {
    guard value.isFinite else { return "n/a" }
    return String(format: "%.\(digits)f", value)
  }
  static func ratio(_ value: Double) -> String {
    guard value.isFinite else { return "n/a" }
    return String(format: "%.2f×", value)
  }
  static func signed(_ value: Double, _ digits: Int = 1) -> String {
    guard value.isFinite else { return "n/a" }
    return String(format: "%+.\(digits)f", value)
  }
  static func mib(_ bytes: Double) -> String { num(bytes / 1_048_576, 2) }
  static func list(_ values: [Double], _ digits: Int = 1) -> String {
    values.map { num($0, digits) }.joined(separator: ", ")
  }

  /// A markdown table.
  static func table(_ header: [String], _ rows: [[String]]) -> String {
    var lines = ["| " + header.joined(separator: " | ") + " |"]
    lines.append("|" + header.map { _ in " --- |" }.joined())
    for row in rows { lines.append("| " + row.joined(separator: " | ") + " |") }
    return lines.joined(separator: "\n")
  }
}

/// Parses sizes such as `1GiB`, `512MiB`, `64k`, `1000000`.
func parseByteCount(_ text: String) -> Int? {
  let lower = text.lowercased().trimmingCharacters(in: .whitespaces)
  let units: [(String, Int)] = [
    ("gib", 1 << 30), ("mib", 1 << 20), ("kib", 1 << 10), ("gb", 1_000_000_000), ("mb", 1_000_000),
    ("kb", 1000), ("g", 1 << 30), ("m", 1 << 20), ("k", 1 << 10), ("b", 1),
  ]
  for (suffix, factor) in units where lower.hasSuffix(suffix) {
    guard let value = Double(lower.dropLast(suffix.count)) else { return nil }
    return Int(value * Double(factor))
  }
  return Int(lower)
}

// MARK: - /proc

/// Memory figures of one process from `/proc/<pid>/smaps_rollup` (kB in the file, bytes here).
struct ProcMemory {
  var rss: Int
  var pss: Int
  var privateBytes: Int
  var anonymous: Int

  static func read(pid: Int32) -> ProcMemory? {
    guard let text = Posix.readText("/proc/\(pid)/smaps_rollup") else { return nil }
    var fields: [String: Int] = [:]
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: " ", omittingEmptySubsequences: true)
      guard parts.count >= 2, parts[0].hasSuffix(":"), let kb = Int(parts[1]) else { continue }
      fields[String(parts[0].dropLast())] = kb * 1024
    }
    guard let rss = fields["Rss"] else { return nil }
    return ProcMemory(
      rss: rss, pss: fields["Pss"] ?? 0,
      privateBytes: (fields["Private_Clean"] ?? 0) + (fields["Private_Dirty"] ?? 0),
      anonymous: fields["Anonymous"] ?? 0)
  }
}

/// CPU time of one process.
struct ProcCPU {
  /// utime and stime in clock ticks (`/proc/<pid>/stat` fields 14 and 15).
  var utimeTicks: UInt64
  var stimeTicks: UInt64
  /// The scheduler's run time in nanoseconds (`/proc/<pid>/schedstat`, field 1).
  var runNanos: UInt64

  static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

  var utimeSeconds: Double { Double(utimeTicks) / Self.ticksPerSecond }
  var stimeSeconds: Double { Double(stimeTicks) / Self.ticksPerSecond }
  var runSeconds: Double { Double(runNanos) / 1e9 }

  static func read(pid: Int32) -> ProcCPU? {
    guard let stat = Posix.readText("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    // fields[0] is field 3 (state): utime (14) is fields[11], stime (15) fields[12].
    guard fields.count > 12, let utime = UInt64(fields[11]), let stime = UInt64(fields[12]) else { return nil }
    let sched = Posix.readText("/proc/\(pid)/schedstat")?.split(separator: " ").first.flatMap { UInt64($0) } ?? 0
    return ProcCPU(utimeTicks: utime, stimeTicks: stime, runNanos: sched)
  }
}

enum Proc {
  /// Every process's argv (by pid).
  static func commandLines() -> [Int32: [String]] {
    var result: [Int32: [String]] = [:]
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
      guard let pid = Int32(entry), let raw = Posix.readFile("/proc/\(entry)/cmdline") else { continue }
      result[pid] = raw.split(separator: 0, omittingEmptySubsequences: false).map {
        String(decoding: $0, as: UTF8.self)
      }
    }
    return result
  }

  /// The pids of `milo supervise` processes whose command line mentions `stateDir`.
  static func supervisors(stateDir: String) -> [Int32] {
    commandLines().filter { _, args in
      args.count > 2 && args[1] == "supervise" && args.contains { $0.hasPrefix(stateDir + "/") }
    }.keys.sorted()
  }

  /// The direct children of `pid`.
  static func children(of pid: Int32) -> [Int32] {
    var result: [Int32] = []
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
      guard let child = Int32(entry), let ppid = parentPid(child), ppid == pid else { continue }
      result.append(child)
    }
    return result.sorted()
  }

  static func parentPid(_ pid: Int32) -> Int32? {
    guard let stat = Posix.readText("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    return fields.count > 1 ? Int32(fields[1]) : nil
  }

  /// The 1-minute load average.
  static func loadAverage() -> Double {
    Double(Posix.readText("/proc/loadavg")?.split(separator: " ").first ?? "") ?? .nan
  }
}

// MARK: - A one-shot flag that async code can wait on

final class OnceFlag: Sendable {
  private let value = Atomic<Bool>(false)
  func set() { value.store(true, ordering: .releasing) }
  var isSet: Bool { value.load(ordering: .acquiring) }
  func wait(timeout: Duration) async -> Bool { await waitUntil(timeout: timeout) { isSet } }
}

// MARK: - Commands

/// Runs a command to completion and returns its combined output (or nil when it cannot run).
func runCommand(_ argv: [String]) -> (status: Int32, output: String)? {
  guard let result = try? Spawn.run(argv, environment: Environment.list()) else { return nil }
  return (WaitStatus(result.status).shellExitCode, result.output)
}

/// Prints to stderr (progress), keeping stdout for results.
func progress(_ message: String) {
  FileHandle.standardError.write(Data(("· " + message + "\n").utf8))
}
