import ArgumentParser
import Foundation
import MiloSupervisor
import MiloSys
import NomadE2E

#if canImport(Glibc)
  import Glibc
#endif

// milo's benchmarks: each subcommand measures milo against a baseline measured in the same run and
// prints a markdown section (medians, ratios) ending in summary rows; `all` runs every benchmark
// and prints the summary table that BENCHMARKS.md records. Needs root, crun and a JDK, like milo.

struct CommonOptions: ParsableArguments {
  @Option(help: "The milo plugin binary (default: .build/milo-release/milo, with its milo.d helper).")
  var milo: String?

  @Option(help: "The test application JAR (default: built by scripts/build-testapp.sh).")
  var jar: String?

  @Option(help: "Also write the markdown report to this file.")
  var output: String?

  func context() throws -> BenchContext {
    guard geteuid() == 0 else { throw BenchError("milo-bench must run as root (it runs containers)") }
    let milo = self.milo ?? Repo.root + "/.build/milo-release/milo"
    guard FileManager.default.isExecutableFile(atPath: milo) else {
      throw BenchError(
        "no milo binary at \(milo); build it with `swift build -c release --product milo --static-swift-stdlib`")
    }
    var jar = self.jar ?? ""
    if jar.isEmpty {
      guard let built = runCommand(["/bin/bash", Repo.root + "/scripts/build-testapp.sh"]), built.status == 0 else {
        throw BenchError("scripts/build-testapp.sh failed")
      }
      jar = built.output.split(separator: "\n").last.map(String.init) ?? ""
    }
    guard FileManager.default.fileExists(atPath: jar) else { throw BenchError("no test JAR at \(jar)") }
    return BenchContext(milo: URL(fileURLWithPath: milo).standardizedFileURL.path, jar: jar, repoRoot: Repo.root)
  }

  /// Prints the machine, then runs `body`, which hands each report to `emit` as soon as it is
  /// done (printed at once; with several, a summary table follows). The whole text goes to
  /// `--output` too.
  func run(_ body: (BenchContext, (BenchReport) -> Void) async throws -> Void) async throws {
    let context = try context()
    let machine = Machine.describe(milo: context.milo, repoRoot: context.repoRoot)
    let collected = Collected(text: "## Machine\n\n" + machine.markdown + "\n")
    print(collected.text)
    let output = self.output
    let save = {
      if let output { try? collected.text.write(toFile: output, atomically: true, encoding: .utf8) }
    }
    save()
    try await body(context) { report in
      report.print()
      collected.text += "\n" + report.markdown + "\n"
      collected.reports.append(report)
      save()
    }
    if collected.reports.count > 1 {
      let summary = "### Summary\n\n" + Fmt.table(SummaryRow.header, collected.reports.flatMap(\.rows).map(\.cells))
      print(summary + "\n")
      collected.text += "\n" + summary + "\n"
      save()
    }
  }
}

final class Collected {
  var text: String
  var reports: [BenchReport] = []
  init(text: String) { self.text = text }
}

struct MiloBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "milo-bench",
    abstract:
      "milo's benchmarks: start latency, memory, log throughput, log latency and relay CPU, each against a baseline.",
    subcommands: [
      StartLatency.self, Memory.self, LogThroughput.self, LogLatency.self, RelayCPU.self, NomadAgentBench.self,
      FootprintCommand.self,
      All.self,
    ])
}

struct StartLatency: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "start-latency",
    abstract: "StartTask → the JVM's first stdout byte in the logmon FIFO, against `java -jar` on the host.")
  @OptionGroup var common: CommonOptions
  @Option(help: "Measured runs per path.") var runs = 15
  @Option(help: "Warm-up runs per path (not counted).") var warmup = 2

  func run() async throws {
    try await common.run { $1(try await StartLatencyBench.run($0, runs: runs, warmup: warmup)) }
  }
}

struct Memory: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Supervisor RSS/PSS/private per running task, and the plugin's RSS with N tasks running.")
  @OptionGroup var common: CommonOptions
  @Option(help: "Tasks to run at once.") var tasks = 50
  @Option(help: "Seconds to wait after the last task started before sampling.") var settle = 15

  func run() async throws {
    try await common.run { $1(try await MemoryBench.run($0, tasks: tasks, settle: settle)) }
  }
}

struct LogThroughput: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "log-throughput",
    abstract: "MB/s from a JVM through milo to a FIFO reader, against the JVM writing straight into the FIFO.")
  @OptionGroup var common: CommonOptions
  @Option(help: "Bytes per run (e.g. 1GiB, 256MiB).", transform: byteCount) var bytes = 1 << 30
  @Option(help: "Measured runs per path.") var runs = 5

  func run() async throws {
    try await common.run { $1(try await ThroughputBench.run($0, bytes: bytes, runs: runs)) }
  }
}

struct LogLatency: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "log-latency",
    abstract:
      "Per-line latency (p50, p99) JVM → log reader through milo, against the JVM writing straight into the FIFO.")
  @OptionGroup var common: CommonOptions
  @Option(help: "Lines per run.") var lines = 2000
  @Option(help: "Microseconds between lines.") var interval = 1000
  @Option(help: "Measured runs per path.") var runs = 3

  func run() async throws {
    try await common.run { $1(try await LatencyBench.run($0, lines: lines, intervalMicros: interval, runs: runs)) }
  }
}

struct RelayCPU: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "relay-cpu", abstract: "Supervisor CPU time per GiB relayed, against `cat` relaying the same stream.")
  @OptionGroup var common: CommonOptions
  @Option(help: "Bytes per run (e.g. 1GiB).", transform: byteCount) var bytes = 1 << 30
  @Option(help: "Measured runs per path.") var runs = 3

  func run() async throws {
    try await common.run { $1(try await RelayCPUBench.run($0, bytes: bytes, runs: runs)) }
  }
}

struct NomadAgentBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "nomad",
    abstract:
      "Under a real Nomad agent: job run → first log line (vs the java driver, raw_exec as the floor), and N tasks: time until all run, PSS per task, MemAvailable per task, plugin RSS."
  )
  @OptionGroup var common: CommonOptions
  @Option(help: "The nomad binary (default: nomad on PATH; ../shared/tools/nomad/install).") var nomad: String?
  @Option(help: "Measured first-line runs per driver.") var runs = 10
  @Option(help: "Tasks in the many-tasks job (0: skip it).") var tasks = 100
  @Option(help: "Seconds to wait after all tasks run before sampling memory.") var settle = 20

  /// `explicit`, else `nomad` on PATH.
  static func nomadBinary(_ explicit: String?) throws -> String {
    guard let nomad = explicit ?? Environment.executable(named: "nomad") else {
      throw BenchError("no nomad binary: install one with ../shared/tools/nomad/install, or pass --nomad")
    }
    return nomad
  }

  func run() async throws {
    let nomad = try Self.nomadBinary(self.nomad)
    let (runs, tasks, settle) = (self.runs, self.tasks, self.settle)
    try await common.run { context, emit in
      try await withServedJar(context.jar) { jarURL in
        let cluster = try NomadCluster(
          root: "/tmp/milo-bench-nomad", nomad: nomad, milo: context.milo, stateDir: "/run/milo-bench-nomad")
        do {
          try await cluster.start()
          if runs > 0 { emit(try await NomadBench.firstLine(cluster, jarURL: jarURL, runs: runs)) }
          if tasks > 0 {
            emit(try await NomadBench.manyTasks(cluster, jarURL: jarURL, tasks: tasks, settle: settle))
          }
        } catch {
          await cluster.stop()
          throw BenchError("\(error)\n\(cluster.diagnostics())")
        }
        await cluster.stop()
      }
    }
  }
}

struct FootprintCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "footprint",
    abstract:
      "Under a real Nomad agent, N tasks: PSS per task and RSS per process of what milo keeps beside each JVM, with only the plugin binary installed (before) and with the milo.d/milo-task helper (after)."
  )
  @OptionGroup var common: CommonOptions
  @Option(help: "The nomad binary (default: nomad on PATH; ../shared/tools/nomad/install).") var nomad: String?
  @Option(help: "Tasks in the job.") var tasks = 100
  @Option(help: "Seconds to wait after all tasks run before sampling memory.") var settle = 20

  func run() async throws {
    let nomad = try NomadAgentBench.nomadBinary(self.nomad)
    let (tasks, settle) = (self.tasks, self.settle)
    try await common.run { context, emit in
      try await withServedJar(context.jar) { jarURL in
        emit(
          try await FootprintBench.run(nomad: nomad, milo: context.milo, jarURL: jarURL, tasks: tasks, settle: settle))
      }
    }
  }
}

struct All: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Runs every benchmark with its defaults and prints the summary table for BENCHMARKS.md.")
  @OptionGroup var common: CommonOptions
  @Flag(help: "Much smaller runs, to check the benchmarks work (figures not meaningful).") var quick = false

  func run() async throws {
    let quick = self.quick
    try await common.run { context, emit in
      emit(try await StartLatencyBench.run(context, runs: quick ? 3 : 15, warmup: quick ? 1 : 2))
      emit(try await MemoryBench.run(context, tasks: quick ? 5 : 50, settle: quick ? 3 : 15))
      emit(try await ThroughputBench.run(context, bytes: quick ? 64 << 20 : 1 << 30, runs: quick ? 2 : 5))
      emit(try await LatencyBench.run(context, lines: quick ? 300 : 2000, intervalMicros: 1000, runs: quick ? 1 : 3))
      emit(try await RelayCPUBench.run(context, bytes: quick ? 64 << 20 : 1 << 30, runs: quick ? 1 : 3))
    }
  }
}

/// Serves the test JAR over loopback HTTP (Nomad's artifact getter has no `file://`) while
/// `body` runs with its URL.
func withServedJar(_ jar: String, _ body: (String) async throws -> Void) async throws {
  let file = URL(fileURLWithPath: jar)
  let artifacts = try await ArtifactServer(directory: file.deletingLastPathComponent().path)
  do {
    try await body(artifacts.url(file.lastPathComponent))
  } catch {
    await artifacts.stop()
    throw error
  }
  await artifacts.stop()
}

func byteCount(_ text: String) throws -> Int {
  guard let value = parseByteCount(text), value > 0 else { throw ValidationError("not a byte count: \(text)") }
  return value
}

extension BenchError: LocalizedError {
  var errorDescription: String? { description }
}

/// The async entry point (top-level code would pick ParsableCommand's synchronous `main()`).
func runMain() async {
  await MiloBench.main()
}

signal(SIGPIPE, SIG_IGN)
await runMain()
