import Foundation
import Milo
import MiloSupervisor
import MiloSys
import NomadHost
import NomadPlugin
import NomadProto
import Testing

/// Helpers for the operations suites (stats, signals, exec, events, limits, network): what a
/// task's container looks like from the host.
enum Ops {
  /// The driver state milo stored in the task's handle.
  static func driverState(_ runner: TaskRunner) async throws -> DriverState {
    let handle = try #require(await runner.taskHandle, "the task has no handle")
    return try DriverState.decode(handle.driverState)
  }

  /// Waits until the task runs and its log contains `text` (the JVM is up); returns its state.
  static func started(
    _ harness: MiloHarness, _ alloc: AllocRunner, _ runner: TaskRunner, log text: String
  ) async throws -> DriverState {
    let state = await runner.waitForState(timeout: .seconds(30)) { $0.state == .running }
    let summary = await runner.taskState.summary
    try #require(state?.state == .running, "the task did not start: \(summary)")
    let log = try await harness.waitForLog(alloc, containing: text, task: runner.context.task.name)
    try #require(log.contains(text), "the log never showed \"\(text)\": \(log.suffix(300))")
    return try await driverState(runner)
  }

  /// Processes in the pid namespace of `pid` (the container's JVM): (host pid, command name).
  static func processesInPidNamespace(of pid: Int32) -> [(pid: Int32, name: String)] {
    guard let namespace = link("/proc/\(pid)/ns/pid") else { return [] }
    var result: [(Int32, String)] = []
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
      guard let other = Int32(entry), link("/proc/\(entry)/ns/pid") == namespace else { continue }
      let name = (Posix.readText("/proc/\(entry)/comm") ?? "?").trimmingCharacters(in: .whitespacesAndNewlines)
      result.append((other, name))
    }
    return result.sorted { $0.0 < $1.0 }
  }

  /// `pid name state ppid` of each process in the pid namespace of `pid`, for failure messages.
  static func describePidNamespace(of pid: Int32) -> [String] {
    processesInPidNamespace(of: pid).map { process in
      let status = Posix.readText("/proc/\(process.pid)/status") ?? ""
      let fields = status.split(separator: "\n").filter { $0.hasPrefix("State:") || $0.hasPrefix("PPid:") }
        .map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" }
      return "\(process.pid) \(process.name) \(fields.joined(separator: " "))"
    }
  }

  /// The parent of a process.
  static func parentPid(_ pid: Int32) -> Int32? {
    for line in (Posix.readText("/proc/\(pid)/status") ?? "").split(separator: "\n") where line.hasPrefix("PPid:") {
      return Int32(line.dropFirst(5).trimmingCharacters(in: .whitespaces))
    }
    return nil
  }

  /// The one-letter state of a process (`R`, `S`, `T`, `Z`, ...), from /proc/<pid>/stat.
  static func processState(_ pid: Int32) -> String? {
    guard let stat = Posix.readText("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return nil }
    return stat[stat.index(after: close)...].split(separator: " ").first.map(String.init)
  }

  /// Whether a process is a zombie (exited, not reaped).
  static func isZombie(_ pid: Int32) -> Bool {
    (Posix.readText("/proc/\(pid)/status") ?? "").contains("State:\tZ")
  }

  /// Live (not zombie) processes in the pid namespace of `pid`.
  static func liveProcessesInPidNamespace(of pid: Int32) -> [(pid: Int32, name: String)] {
    processesInPidNamespace(of: pid).filter { !isZombie($0.pid) }
  }

  static func link(_ path: String) -> String? {
    try? FileManager.default.destinationOfSymbolicLink(atPath: path)
  }

  /// The inode of a namespace file (`/proc/<pid>/ns/net`, `/var/run/netns/<name>`).
  static func inode(_ path: String) -> UInt64? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return UInt64(info.st_ino)
  }

  /// `crun exec` processes (any runtime process with `exec`) using `stateDir`'s runtime root.
  static func runtimeExecProcesses(stateDir: String) -> [String] {
    var result: [String] = []
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int(entry) != nil {
      guard let raw = Posix.readFile("/proc/\(entry)/cmdline") else { continue }
      let args = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
      if args.contains(stateDir + "/runtime") && args.contains("exec") {
        result.append("\(entry): \(args.joined(separator: " "))")
      }
    }
    return result
  }

  /// Files an exec leaves in the task's state dir while it runs (pid file, runtime log, console
  /// socket); must be none afterwards.
  static func execFiles(_ state: DriverState) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: state.taskStateDir)) ?? [])
      .filter { $0.hasPrefix("exec-") || $0.hasPrefix("console-") }.sorted()
  }

  /// Open descriptors of a process.
  static func openDescriptors(_ pid: Int32) -> Int {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []).count
  }

  /// Threads of a process.
  static func threads(_ pid: Int32) -> Int {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []).count
  }

  /// read(2)-family calls a process makes per second (`syscr` of /proc/<pid>/io), over 1 s.
  static func readCallsPerSecond(_ pid: Int32) async throws -> Double {
    func syscr() -> Double {
      Double(keyed(Posix.readText("/proc/\(pid)/io")?.replacingOccurrences(of: ":", with: ""))["syscr"] ?? 0)
    }
    let before = syscr()
    let start = ContinuousClock.now
    try await Task.sleep(for: .seconds(1))
    let elapsed = ContinuousClock.now - start
    return (syscr() - before) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
  }

  /// The milo plugin instance's pid.
  static func pluginPid(_ harness: MiloHarness) async throws -> Int32 {
    let manager = try await harness.driver
    return try #require(await manager.currentInstance?.pid)
  }

  /// A file of the task's cgroup in a v1 controller hierarchy, trimmed; nil when absent.
  static func cgroupV1(_ controller: String, _ state: DriverState, _ file: String) -> String? {
    Posix.readText("/sys/fs/cgroup/\(controller)/milo/\(state.containerID)/\(file)")?
      .trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// A file of the task's cgroup on this host's layout, trimmed; nil when absent. `v1` names the
  /// controller hierarchy and file (v1 and hybrid hosts), `v2` the file in the unified cgroup.
  static func cgroupFile(_ mode: String, _ state: DriverState, v1: (String, String), v2: String) -> String? {
    mode == "v2"
      ? Posix.readText("/sys/fs/cgroup/milo/\(state.containerID)/\(v2)")?
        .trimmingCharacters(in: .whitespacesAndNewlines)
      : cgroupV1(v1.0, state, v1.1)
  }

  /// Whether the kernel tells user from system CPU time. A User-Mode Linux guest (the pure v1
  /// and v2 test machines) accounts all of it as system time. Spins 50 ms of user code to see.
  static let kernelSplitsUserAndSystemTime: Bool = {
    let start = ContinuousClock.now
    var spins: UInt64 = 0
    while ContinuousClock.now - start < .milliseconds(50) { spins &+= 1 }
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return spins > 0 && (usage.ru_utime.tv_sec > 0 || usage.ru_utime.tv_usec > 0)
  }()

  /// The cgroup v2 `cpu.weight` an OCI runtime derives from cpu shares (crun's and runc's rule).
  static func cpuWeight(shares: UInt64) -> UInt64 { 1 + ((shares - 2) * 9999) / 262_142 }

  /// `key value` lines of a cgroup file.
  static func keyed(_ text: String?) -> [String: UInt64] {
    var result: [String: UInt64] = [:]
    for line in (text ?? "").split(separator: "\n") {
      let parts = line.split(separator: " ")
      if parts.count == 2, let value = UInt64(parts[1]) { result[String(parts[0])] = value }
    }
    return result
  }

  /// The host's cgroup layout as milo reports it (`driver.milo.cgroup`).
  static func cgroupMode(_ harness: MiloHarness) async throws -> String {
    let manager = try await harness.driver
    return manager.fingerprints.latest?.attributes["driver.milo.cgroup"] ?? ""
  }

  /// Prints measurements when MILO_TEST_VERBOSE is set (for reports; silent otherwise).
  static func report(_ text: @autoclosure () -> String) {
    if ProcessInfo.processInfo.environment["MILO_TEST_VERBOSE"] != nil { print("MEASURED \(text())") }
  }

  /// Text of bytes.
  static func string(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}

/// The result of an ExecTaskStreaming session.
struct StreamedExec: Sendable {
  var stdout: [UInt8]
  var stderr: [UInt8]
  var result: ExitResultProto
  var outputs: [ExecStreamOutput]

  var out: String { Ops.string(stdout) }
  var err: String { Ops.string(stderr) }
}

/// Collected output of a streaming exec.
final class ExecCollector: @unchecked Sendable {
  private let lock = NSLock()
  private var outputs: [ExecStreamOutput] = []

  func add(_ output: ExecStreamOutput) {
    lock.lock()
    outputs.append(output)
    lock.unlock()
  }

  var all: [ExecStreamOutput] {
    lock.lock()
    defer { lock.unlock() }
    return outputs
  }

  var stdout: [UInt8] {
    all.flatMap { output -> [UInt8] in
      if case .stdout(let bytes) = output { return bytes }
      return []
    }
  }

  var stderr: [UInt8] {
    all.flatMap { output -> [UInt8] in
      if case .stderr(let bytes) = output { return bytes }
      return []
    }
  }
}

extension Ops {
  /// Runs `command` with ExecTaskStreaming through the task runner: sends `input` in order
  /// (waiting `pause` between items), then waits for the exit.
  static func stream(
    _ runner: TaskRunner, _ command: [String], tty: Bool = false, input: [ExecStreamInput] = [],
    pause: Duration = .milliseconds(100), closeInputAtEnd: Bool = false
  ) async throws -> StreamedExec {
    let (stream, sink) = AsyncStream.makeStream(of: ExecStreamInput.self)
    let collector = ExecCollector()
    let feeder = Task {
      for item in input {
        sink.yield(item)
        try? await Task.sleep(for: pause)
      }
      if closeInputAtEnd { sink.yield(.closeStdin) }
    }
    defer {
      feeder.cancel()
      sink.finish()
    }
    let result = try await runner.execStreaming(command, tty: tty, input: stream) { collector.add($0) }
    return StreamedExec(stdout: collector.stdout, stderr: collector.stderr, result: result, outputs: collector.all)
  }
}
