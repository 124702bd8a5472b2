import Foundation
import MiloSupervisor
import MiloSys
import NomadHost
import NomadPlugin
import Synchronization
@_exported import TestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

// Helpers for the log scenario tests (LogAcceptanceTests, LogVolumeTests, LogFaultTests).

/// One log test's NomadHost + milo. `LogSession.with` runs it inside `withMiloHarness`, which
/// always tears it down and checks that milo left nothing on the host.
final class LogSession: Sendable {
  let harness: MiloHarness

  private init(harness: MiloHarness) { self.harness = harness }

  static func with(
    _ name: String, pluginConfig: [String: MsgpackValue] = [:], _ body: (LogSession) async throws -> Void
  ) async throws {
    try await withMiloHarness(name, pluginConfig: pluginConfig) { harness in
      try await body(LogSession(harness: harness))
    }
  }

  /// Runs a one-task job (the task is named `java-app`).
  func run(_ task: TaskSpec, type: JobSpec.JobType = .service) async throws -> (AllocRunner, TaskRunner) {
    try await harness.run(task, type: type)
  }

  /// Runs the test application with `args` and waits until the task is running.
  func runTestApp(
    _ args: [String], type: JobSpec.JobType = .service, logs: LogConfigSpec = LogConfigSpec(),
    jvmOptions: [String] = ["-Xmx64m", "-Xshare:auto"]
  ) async throws -> (AllocRunner, TaskRunner) {
    let (alloc, runner) = try await run(
      MiloHarness.testAppTask(args, jvmOptions: jvmOptions, logs: logs), type: type)
    let state = await runner.waitForState(timeout: .seconds(60)) { $0.state == .running || $0.state == .dead }
    guard let state, state.state == .running else {
      throw HarnessError("the task did not start: \(await runner.taskState.summary)")
    }
    return (alloc, runner)
  }
}

// MARK: - Reading logs

enum LogFiles {
  /// The task's rotated files of `type`, by index.
  static func files(_ alloc: AllocRunner, task: String = "java-app", type: LogType = .stdout) -> [String] {
    let dir = alloc.allocDir.logDir
    let prefix = "\(task).\(type.rawValue)."
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
    return names.compactMap { name -> (Int, String)? in
      guard name.hasPrefix(prefix), let index = Int(name.dropFirst(prefix.count)) else { return nil }
      return (index, "\(dir)/\(name)")
    }.sorted { $0.0 < $1.0 }.map(\.1)
  }

  /// The total size of the task's files of `type` (what logmon has written so far).
  static func totalSize(_ alloc: AllocRunner, task: String = "java-app", type: LogType = .stdout) -> Int {
    files(alloc, task: task, type: type).reduce(0) { sum, path in
      var info = stat()
      return sum + (stat(path, &info) == 0 ? Int(info.st_size) : 0)
    }
  }

  /// Streams the whole log (every rotated file, as `nomad alloc logs` reads it) into `consume`.
  static func stream(
    _ alloc: AllocRunner, task: String = "java-app", type: LogType = .stdout, _ consume: ([UInt8]) -> Void
  ) async throws {
    let request = LogStreamRequest(logDir: alloc.allocDir.logDir, task: task, type: type, origin: .start)
    for try await chunk in AllocLogReader.bytes(request) { consume(chunk) }
  }
}

/// A `nomad alloc logs -f` in the background: collects the bytes and when they arrived.
final class LogFollower: Sendable {
  struct Arrival: Sendable {
    var at: ContinuousClock.Instant
    /// The total byte count after this frame.
    var total: Int
  }

  private struct State {
    var bytes: [UInt8] = []
    var arrivals: [Arrival] = []
    var error: String?
    var ended = false
  }

  private let state = Mutex(State())
  private let task = Mutex<Task<Void, Never>?>(nil)

  init(_ request: LogStreamRequest) {
    let stream = AllocLogReader.bytes(request)
    let task = Task { [self] in
      do {
        for try await chunk in stream {
          let now = ContinuousClock.now
          self.state.withLock { state in
            state.bytes += chunk
            state.arrivals.append(Arrival(at: now, total: state.bytes.count))
          }
        }
      } catch {
        self.state.withLock { $0.error = "\(error)" }
      }
      self.state.withLock { $0.ended = true }
    }
    self.task.withLock { $0 = task }
  }

  /// Follows stdout the way plain `nomad alloc logs -f <alloc> <task>` does.
  static func allocLogsF(_ alloc: AllocRunner, task: String = "java-app") throws -> LogFollower {
    let plan = try AllocLogsPlan.make(
      options: AllocLogsOptions(follow: true), logDir: alloc.allocDir.logDir, task: task)
    guard case .both(let stdout, _) = plan else { throw HarnessError("unexpected plan \(plan)") }
    return LogFollower(stdout)
  }

  /// `nomad alloc logs -f -stdout|-stderr <alloc> <task>` (from the first file's start).
  static func allocLogsF(_ alloc: AllocRunner, type: LogType, task: String = "java-app") throws -> LogFollower {
    let plan = try AllocLogsPlan.make(
      options: AllocLogsOptions(follow: true, stdout: type == .stdout, stderr: type == .stderr),
      logDir: alloc.allocDir.logDir, task: task)
    guard case .single(let request, nil) = plan else { throw HarnessError("unexpected plan \(plan)") }
    return LogFollower(request)
  }

  var bytes: [UInt8] { state.withLock { $0.bytes } }
  var text: String { String(decoding: bytes, as: UTF8.self) }
  var count: Int { state.withLock { $0.bytes.count } }
  var arrivals: [Arrival] { state.withLock { $0.arrivals } }
  var error: String? { state.withLock { $0.error } }

  /// Waits until `predicate` holds for the bytes so far; false after `timeout`.
  func wait(timeout: Duration, until predicate: ([UInt8]) -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
      if state.withLock({ predicate($0.bytes) }) { return true }
      if ContinuousClock.now >= deadline || state.withLock({ $0.ended }) {
        return state.withLock { predicate($0.bytes) }
      }
      try? await Task.sleep(for: .milliseconds(20))
    }
  }

  func stop() {
    task.withLock { $0?.cancel() }
  }
}

// MARK: - Expected streams

/// Compares a stream arriving in arbitrary chunks with an expected stream produced in blocks,
/// reporting the first differing offset.
struct StreamComparator<Source: ExpectedSource> {
  private var source: Source
  private var expected: [UInt8] = []
  private var position = 0
  /// Bytes of the expected stream consumed so far (compared or skipped).
  private(set) var count = 0
  /// The offset of the first byte that differs (or that the expected stream does not have).
  private(set) var firstMismatch: Int?

  init(_ source: Source) { self.source = source }

  mutating func feed(_ chunk: [UInt8]) {
    chunk.withUnsafeBytes { feed($0) }
  }

  mutating func feed(_ chunk: UnsafeRawBufferPointer) {
    var offset = 0
    while offset < chunk.count {
      if position == expected.count {
        expected = source.nextBlock()
        position = 0
        if expected.isEmpty {
          if firstMismatch == nil { firstMismatch = count }
          count += chunk.count - offset
          return
        }
      }
      let length = min(expected.count - position, chunk.count - offset)
      if firstMismatch == nil {
        let differs = expected.withUnsafeBytes { exp in
          guard let want = exp.baseAddress, let got = chunk.baseAddress else { return true }
          return memcmp(want + position, got + offset, length) != 0
        }
        if differs {
          var index = 0
          while expected[position + index] == chunk[offset + index] { index += 1 }
          firstMismatch = count + index
        }
      }
      position += length
      offset += length
      count += length
    }
  }

  /// Skips `length` bytes of the expected stream (bytes known to be missing).
  mutating func skip(_ length: Int) {
    var left = length
    while left > 0 {
      if position == expected.count {
        expected = source.nextBlock()
        position = 0
        if expected.isEmpty {
          if firstMismatch == nil { firstMismatch = count }
          return
        }
      }
      let step = min(left, expected.count - position)
      position += step
      count += step
      left -= step
    }
  }
}

protocol ExpectedSource {
  /// The next bytes of the stream (empty at its end).
  mutating func nextBlock() -> [UInt8]
}

/// TestApp `flood TOTAL`: 100-byte lines "%012d " + 86 letters ('a' + i % 26 for i in 13..<99)
/// + "\n", numbered from 0, cut at TOTAL bytes.
struct FloodSource: ExpectedSource {
  let total: Int
  private var produced = 0
  private var block: [UInt8]
  private var blockNumber = 0

  init(total: Int) {
    self.total = total
    var line = [UInt8](repeating: 0x30, count: 100)
    line[12] = 0x20
    for i in 13..<99 { line[i] = UInt8(ascii: "a") + UInt8(i % 26) }
    line[99] = 0x0A
    var block: [UInt8] = []
    block.reserveCapacity(10_000)
    for j in 0..<100 {
      var copy = line
      copy[10] = 0x30 + UInt8(j / 10)
      copy[11] = 0x30 + UInt8(j % 10)
      block += copy
    }
    self.block = block
  }

  /// 100 lines at a time: lines 100·b … 100·b+99 share their first ten digits (b, zero-padded),
  /// so from one block to the next only the digits of b that changed are rewritten.
  mutating func nextBlock() -> [UInt8] {
    guard produced < total else { return [] }
    if blockNumber > 0 {
      block.withUnsafeMutableBytes { raw in
        // Increment the ten-digit prefix of every line: a carry ripples left from digit 9.
        var digit = 9
        while digit >= 0 {
          let carry = raw[digit] == 0x39
          let value: UInt8 = carry ? 0x30 : raw[digit] + 1
          var offset = digit
          while offset < raw.count {
            raw[offset] = value
            offset += 100
          }
          if !carry { break }
          digit -= 1
        }
      }
    }
    blockNumber += 1
    let length = min(block.count, total - produced)
    produced += length
    return length == block.count ? block : Array(block[..<length])
  }
}

/// `java.util.Random(seed).nextBytes` in 64 KiB chunks (TestApp `binary TOTAL SEED`). A chunk is
/// a multiple of 4 bytes, so the chunks form one continuous nextInt() stream, each int's bytes
/// taken low byte first.
struct JavaRandomSource: ExpectedSource {
  static let multiplier: UInt64 = 0x5_DEEC_E66D
  static let mask: UInt64 = (1 << 48) - 1
  private var seed: UInt64
  let total: Int
  private var produced = 0

  init(seed: Int64, total: Int) {
    self.seed = (UInt64(bitPattern: seed) ^ Self.multiplier) & Self.mask
    self.total = total
  }

  mutating func nextInt() -> UInt32 {
    seed = (seed &* Self.multiplier &+ 0xB) & Self.mask
    return UInt32(truncatingIfNeeded: seed >> 16)
  }

  mutating func nextBlock() -> [UInt8] {
    guard produced < total else { return [] }
    let length = min(1 << 16, total - produced)
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    chunk.withUnsafeMutableBytes { raw in
      let words = raw.bindMemory(to: UInt32.self)
      for index in 0..<words.count { words[index] = nextInt().littleEndian }
    }
    produced += length
    return length == chunk.count ? chunk : Array(chunk[..<length])
  }
}

/// TestApp `numbered`/`paced`/`gated` lines: "line %07d\n".
enum Numbered {
  static let lineLength = 13

  static func line(_ n: Int) -> String {
    let digits = String(n)
    return "line " + String(repeating: "0", count: max(0, 7 - digits.count)) + digits + "\n"
  }

  static func lines(_ range: ClosedRange<Int>) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(range.count * lineLength)
    for n in range { bytes += Array(line(n).utf8) }
    return bytes
  }

  /// What a numbered stream lost and duplicated: the numbers of the `line N` lines in `text`.
  struct Audit: CustomStringConvertible {
    var numbers: [Int] = []
    var otherLines: [String] = []
    func missing(upTo count: Int) -> [Int] {
      var seen = [Bool](repeating: false, count: count + 1)
      for n in numbers where n >= 1 && n <= count { seen[n] = true }
      return (1...count).filter { !seen[$0] }
    }
    var duplicates: Int { numbers.count - Set(numbers).count }
    var inOrder: Bool { zip(numbers, numbers.dropFirst()).allSatisfy { $0 < $1 } }
    var description: String {
      "\(numbers.count) numbered lines (first \(numbers.first ?? 0), last \(numbers.last ?? 0)), "
        + "\(duplicates) duplicates, other lines: \(otherLines.prefix(5))"
    }
  }

  static func audit(_ bytes: [UInt8]) -> Audit {
    var audit = Audit()
    for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) where !line.isEmpty {
      if line.count == 12, line.starts(with: Array("line ".utf8)),
        let n = Int(String(decoding: line.dropFirst(5), as: UTF8.self))
      {
        audit.numbers.append(n)
      } else {
        audit.otherLines.append(String(decoding: line.prefix(200), as: UTF8.self))
      }
    }
    return audit
  }
}

// MARK: - Drop markers

/// A flood log checked against the expected stream with milo's drop markers taken into account:
/// every marker must stand exactly where bytes are missing, and report exactly their count and
/// the number of lines they ended.
struct FloodDropAudit: CustomStringConvertible {
  struct Drop {
    /// The offset in the expected stream where the dropped bytes start.
    var at: Int
    var lines: Int
    var bytes: Int
  }

  var drops: [Drop] = []
  /// Markers that had to start with their own newline (the bytes before ended inside a line).
  var midLineMarkers = 0
  /// Problems found (empty when the log is the stream minus exactly what the markers report).
  var problems: [String] = []
  /// Bytes of the expected stream accounted for (present or reported dropped).
  var accounted = 0

  var droppedBytes: Int { drops.reduce(0) { $0 + $1.bytes } }
  var droppedLines: Int { drops.reduce(0) { $0 + $1.lines } }
  var description: String {
    "\(drops.count) markers (\(midLineMarkers) after a partial line), \(droppedLines) lines / \(droppedBytes) bytes "
      + "dropped, \(accounted) bytes accounted, "
      + "problems: \(problems.prefix(5))"
  }

  /// Audits `log` (all of stdout) against `flood total`'s 100-byte lines.
  static func audit(_ log: [UInt8], total: Int) -> FloodDropAudit {
    var audit = FloodDropAudit()
    var comparator = StreamComparator(FloodSource(total: total))
    let prefix = Array("[milo] dropped ".utf8)
    log.withUnsafeBytes { raw in
      guard let base = raw.baseAddress else { return }
      var position = 0
      while position < raw.count {
        // Flood lines hold digits, a space and letters: a '[' starts a marker.
        let found = memchr(base + position, Int32(UInt8(ascii: "[")), raw.count - position)
        let markerStart = found.map { base.distance(to: UnsafeRawPointer($0)) } ?? raw.count
        var segmentEnd = markerStart
        if markerStart < raw.count, segmentEnd > position, raw[segmentEnd - 1] == 0x0A,
          (comparator.count + segmentEnd - position) % 100 != 0
        {
          // The marker's own leading newline: the bytes before it ended inside a line.
          segmentEnd -= 1
          audit.midLineMarkers += 1
        }
        comparator.feed(UnsafeRawBufferPointer(rebasing: raw[position..<segmentEnd]))
        guard markerStart < raw.count else { break }
        let lineEnd =
          memchr(base + markerStart, 0x0A, raw.count - markerStart).map {
            base.distance(to: UnsafeRawPointer($0))
          } ?? raw.count
        let line = text(Array(raw[markerStart..<lineEnd]))
        guard Array(raw[markerStart..<min(lineEnd, markerStart + prefix.count)]) == prefix,
          let parsed = parseDropMarker(line)
        else {
          audit.problems.append("unexpected text at \(markerStart): \(line.prefix(120))")
          break
        }
        let at = comparator.count
        let newlines = (at + parsed.bytes) / 100 - at / 100
        if parsed.lines != newlines {
          audit.problems.append(
            "marker at \(at) says \(parsed.lines) lines, the \(parsed.bytes) bytes hold \(newlines)")
        }
        if (at + parsed.bytes) % 100 != 0 {
          audit.problems.append("the drop at \(at) of \(parsed.bytes) bytes does not end at a line end")
        }
        audit.drops.append(Drop(at: at, lines: parsed.lines, bytes: parsed.bytes))
        comparator.skip(parsed.bytes)
        position = lineEnd + 1
      }
    }
    audit.accounted = comparator.count
    if let mismatch = comparator.firstMismatch {
      audit.problems.append("the bytes differ from the stream at stream offset \(mismatch)")
    }
    if comparator.count != total {
      audit.problems.append("\(comparator.count) bytes accounted for, the stream has \(total)")
    }
    return audit
  }
}

// MARK: - The supervisor process

enum SupervisorProbe {
  /// The pids of the `milo supervise` processes of tasks run with `stateDir` (as LeakCheck finds
  /// them).
  static func pids(stateDir: String) -> [Int32] {
    var pids: [Int32] = []
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
      guard let pid = Int32(entry), let raw = Posix.readFile("/proc/\(entry)/cmdline") else { continue }
      let args = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
      if args.count > 3, args[1] == "supervise", args.contains(stateDir + "/runtime") { pids.append(pid) }
    }
    return pids
  }

  /// The process's command line.
  static func arguments(_ pid: Int32) -> [String] {
    (Posix.readFile("/proc/\(pid)/cmdline") ?? []).split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
  }

  /// A `/proc/<pid>/status` field in KiB (`VmRSS`, `VmHWM`).
  static func statusKiB(_ pid: Int32, _ field: String) -> Int? {
    guard let text = Posix.readText("/proc/\(pid)/status") else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
      // "VmRSS:\t   10240 kB"
      return Int(line.dropFirst(field.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
    }
    return nil
  }
}

/// Samples a supervisor's resident memory on its own thread until stopped.
final class RSSSampler: Sendable {
  private struct State {
    var peakRSS = 0
    var lastHWM = 0
    var samples = 0
    var stop = false
  }

  private let state = Mutex(State())
  private let done = Mutex<Bool>(false)
  let pid: Int32

  init(pid: Int32, intervalMillis: Int = 20) {
    self.pid = pid
    Blocking.detach(name: "rss-sampler") { [self] in
      while !self.state.withLock({ $0.stop }) {
        if let rss = SupervisorProbe.statusKiB(pid, "VmRSS") {
          let hwm = SupervisorProbe.statusKiB(pid, "VmHWM") ?? 0
          self.state.withLock { state in
            state.peakRSS = max(state.peakRSS, rss)
            state.lastHWM = max(state.lastHWM, hwm)
            state.samples += 1
          }
        }
        usleep(UInt32(intervalMillis * 1000))
      }
      self.done.withLock { $0 = true }
    }
  }

  /// Stops sampling; returns (peak VmRSS seen, the kernel's VmHWM, sample count), in KiB.
  func stop() async -> (peakRSS: Int, hwm: Int, samples: Int) {
    state.withLock { $0.stop = true }
    while !done.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(5)) }
    return state.withLock { ($0.peakRSS, $0.lastHWM, $0.samples) }
  }
}

// MARK: - Small things

extension AllocRunner {
  /// A path in the task's `tmp/` (the container's `/tmp`).
  nonisolated func taskTmp(_ name: String, task: String = "java-app") -> String {
    allocDir.taskDir(task).tmp + "/" + name
  }

  /// Creates a trigger file the test application waits for.
  nonisolated func touch(_ name: String, task: String = "java-app") {
    FileManager.default.createFile(atPath: taskTmp(name, task: task), contents: Data())
  }
}

extension Duration {
  var seconds: Double {
    Double(components.seconds) + Double(components.attoseconds) / 1e18
  }
}

func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
