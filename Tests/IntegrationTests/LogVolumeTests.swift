import Foundation
import MiloSupervisor
import MiloSys
import NomadHost
import NomadPlugin
import Testing

/// Issue 4, volume: large, binary and unterminated output arrives byte-exact through the
/// supervisor's relay, logmon and the rotator, read back as `nomad alloc logs` reads it.
///
/// The relay never blocks the application: it drains the container's pipe at once and, when
/// logmon falls behind by more than `log_buffer_bytes`, drops the oldest lines (with a marker).
/// So a burst larger than the buffer arrives intact only while logmon keeps up, which it does
/// on an otherwise idle machine (measured: every run) but not with the CPUs saturated by other
/// work. The 1 GiB test keeps the default 4 MiB buffer (its point is throughput in bounded
/// memory); the binary and long-line tests, whose point is content, give the relay a buffer
/// larger than the burst so they do not depend on the machine's load.
@Suite(.serialized, .enabled(if: Fixtures.canRunContainers, "needs root, crun, a JDK and the milo binary"))
struct LogVolumeTests {
  /// 1 GiB of numbered 100-byte lines, compared byte for byte with the expected stream, while
  /// the supervisor's resident memory stays small.
  @Test func oneGiBArrivesIntactWithBoundedSupervisorMemory() async throws {
    let total = 1 << 30
    try await LogSession.with("logs-1gib") { session in
      // Enough files that the rotator purges nothing (about 108 files of up to 10 MB).
      let started = ContinuousClock.now
      let (alloc, runner) = try await session.runTestApp(
        ["flood", "\(total)"], type: .batch, logs: LogConfigSpec(maxFiles: 200, maxFileSizeMB: 10))
      let pid = try #require(SupervisorProbe.pids(stateDir: session.harness.stateDir).first)
      let sampler = RSSSampler(pid: pid)
      let final = await runner.waitUntilDone()
      let elapsed = ContinuousClock.now - started
      let memory = await sampler.stop()
      #expect(final.state == .dead && !final.failed, "\(final.summary)")
      #expect(
        final.events.last { $0.type == TaskEvent.Kind.terminated }?.details["exit_code"] == "0", "\(final.summary)")

      let verifying = ContinuousClock.now
      var comparator = StreamComparator(FloodSource(total: total))
      var markers = 0  // '[' starts a drop marker; flood lines have none
      try await LogFiles.stream(alloc) { chunk in
        comparator.feed(chunk)
        markers += countOf(0x5B, in: chunk)
      }
      let files = LogFiles.files(alloc).count
      print(
        "[logs-1gib] 1 GiB through milo in \(elapsed) (\(String(format: "%.0f", 1024 / elapsed.seconds)) MiB/s, "
          + "JVM start included), \(files) files, verified in \(ContinuousClock.now - verifying); supervisor "
          + "peak VmRSS \(memory.peakRSS) KiB over \(memory.samples) samples, VmHWM \(memory.hwm) KiB")
      #expect(comparator.count == total)
      #expect(
        comparator.firstMismatch == nil,
        "first difference at byte \(comparator.firstMismatch ?? -1); \(markers) drop markers (logmon slower than the JVM?)"
      )
      #expect(memory.samples > 10)
      #expect(memory.peakRSS < 64 * 1024, "supervisor peak RSS \(memory.peakRSS) KiB")
      #expect(memory.hwm < 64 * 1024, "supervisor VmHWM \(memory.hwm) KiB")
      #expect(try await session.harness.logs(alloc, type: .stderr).isEmpty)
    }
  }

  /// 64 MiB of `java.util.Random` bytes (every byte value, NULs, invalid UTF-8, escapes, lines
  /// of any length) arrive byte-exact.
  @Test func randomBinaryArrivesByteExact() async throws {
    let total = 64 << 20
    let seed: Int64 = 20_240_611
    try await LogSession.with("logs-binary", pluginConfig: ["log_buffer_bytes": .int(80 << 20)]) { session in
      let (alloc, runner) = try await session.runTestApp(
        ["binary", "\(total)", "\(seed)"], type: .batch, logs: LogConfigSpec(maxFiles: 20, maxFileSizeMB: 10))
      let final = await runner.waitUntilDone()
      #expect(final.state == .dead && !final.failed, "\(final.summary)")
      var comparator = StreamComparator(JavaRandomSource(seed: seed, total: total))
      var log: [UInt8] = []
      try await LogFiles.stream(alloc) { chunk in
        comparator.feed(chunk)
        log += chunk
      }
      #expect(comparator.count == total)
      #expect(
        comparator.firstMismatch == nil,
        "first difference at byte \(comparator.firstMismatch ?? -1); drop marker present: \(dropMarkerPresent(log))")
      #expect(try await session.harness.logs(alloc, type: .stderr).isEmpty)
    }
  }

  /// One 10 MiB line without a newline arrives whole (the rotator splits it across files; the
  /// files' concatenation is the line).
  @Test func tenMiBLineWithoutNewlineArrivesIntact() async throws {
    let total = 10 << 20
    try await LogSession.with("logs-longline", pluginConfig: ["log_buffer_bytes": .int(16 << 20)]) { session in
      let (alloc, runner) = try await session.runTestApp(["longline", "\(total)"], type: .batch)
      let final = await runner.waitUntilDone()
      #expect(final.state == .dead && !final.failed, "\(final.summary)")
      var comparator = StreamComparator(AlphabetSource(total: total))
      var log: [UInt8] = []
      try await LogFiles.stream(alloc) { chunk in
        comparator.feed(chunk)
        log += chunk
      }
      let files = LogFiles.files(alloc)
      print("[logs-longline] 10 MiB line in \(files.count) files")
      #expect(comparator.count == total)
      #expect(
        comparator.firstMismatch == nil,
        "first difference at byte \(comparator.firstMismatch ?? -1); drop marker present: \(dropMarkerPresent(log))")
      #expect(files.count >= 2, "\(files)")
    }
  }
}

extension LogVolumeTests {
  /// The expected streams above are what the application writes (run on the host, no milo),
  /// and a comparator notices a single changed, missing or extra byte.
  @Test func expectedStreamsMatchTheApplication() throws {
    func hostRun(_ args: [String]) throws -> [UInt8] {
      let out = Fixtures.temporaryDirectory("expected") + "/out"
      defer { try? FileManager.default.removeItem(atPath: (out as NSString).deletingLastPathComponent) }
      let command = (["java", "-jar", Fixtures.testAppJar] + args).map { "'\($0)'" }.joined(separator: " ")
      let result = try Spawn.run(["/bin/sh", "-c", command + " > " + out], environment: Environment.list())
      #expect(WaitStatus(result.status).shellExitCode == 0, "\(result.output)")
      return Array(try Data(contentsOf: URL(fileURLWithPath: out)))
    }
    func compare<S: ExpectedSource>(_ bytes: [UInt8], _ source: S, total: Int) -> Int? {
      var comparator = StreamComparator(source)
      var offset = 0
      while offset < bytes.count {  // odd chunk sizes, as frames come
        let end = min(bytes.count, offset + 7919)
        comparator.feed(Array(bytes[offset..<end]))
        offset = end
      }
      return comparator.count == total ? comparator.firstMismatch : (comparator.firstMismatch ?? comparator.count)
    }
    let floodTotal = 1_234_567
    let flood = try hostRun(["flood", "\(floodTotal)"])
    #expect(flood.count == floodTotal)
    #expect(compare(flood, FloodSource(total: floodTotal), total: floodTotal) == nil)
    let randomTotal = 300_001
    let random = try hostRun(["binary", "\(randomTotal)", "-42"])
    #expect(random.count == randomTotal)
    #expect(compare(random, JavaRandomSource(seed: -42, total: randomTotal), total: randomTotal) == nil)
    let long = try hostRun(["longline", "100000"])
    #expect(compare(long, AlphabetSource(total: 100_000), total: 100_000) == nil)
    // Corruptions are found at their offset.
    var changed = flood
    changed[777_777] ^= 1
    #expect(compare(changed, FloodSource(total: floodTotal), total: floodTotal) == 777_777)
    var missing = flood
    missing.remove(at: 500_000)
    #expect(compare(missing, FloodSource(total: floodTotal), total: floodTotal) != nil)
    #expect(compare(flood + [0x0A], FloodSource(total: floodTotal), total: floodTotal) == floodTotal)
    #expect(
      compare(Array(random.dropLast()), JavaRandomSource(seed: -42, total: randomTotal), total: randomTotal) != nil)
    #expect(compare(random, JavaRandomSource(seed: 42, total: randomTotal), total: randomTotal) != nil)
  }
}

/// How many times `byte` occurs in `bytes` (memchr).
func countOf(_ byte: UInt8, in bytes: [UInt8]) -> Int {
  bytes.withUnsafeBytes { raw in
    guard let base = raw.baseAddress else { return 0 }
    var count = 0
    var offset = 0
    while offset < raw.count, let hit = memchr(base + offset, Int32(byte), raw.count - offset) {
      count += 1
      offset = base.distance(to: UnsafeRawPointer(hit)) + 1
    }
    return count
  }
}

/// Whether `log` holds a relay drop marker (only computed to explain a failure).
func dropMarkerPresent(_ log: [UInt8]) -> Bool {
  let marker = Array("[milo] dropped ".utf8)
  return log.withUnsafeBytes { raw in
    guard let base = raw.baseAddress else { return false }
    var offset = 0
    while offset < raw.count, let hit = memchr(base + offset, 0x5B, raw.count - offset) {
      let index = base.distance(to: UnsafeRawPointer(hit))
      if index + marker.count <= raw.count, Array(raw[index..<(index + marker.count)]) == marker { return true }
      offset = index + 1
    }
    return false
  }
}

/// TestApp `longline N`: 'a' + i % 26 for i in 0..<N, no newline.
struct AlphabetSource: ExpectedSource {
  let total: Int
  private var produced = 0
  private let block: [UInt8] = (0..<(26 * 2520)).map { UInt8(ascii: "a") + UInt8($0 % 26) }

  init(total: Int) { self.total = total }

  mutating func nextBlock() -> [UInt8] {
    guard produced < total else { return [] }
    let length = min(block.count, total - produced)
    produced += length
    return length == block.count ? block : Array(block[..<length])
  }
}
