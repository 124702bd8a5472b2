import Foundation
import NomadE2E

/// What milo keeps beside each JVM under a real Nomad agent, before and after the per-task
/// helper: the same job of N tasks run twice in one benchmark run, first with only the plugin
/// binary installed (it then serves as each task's supervisor and init), then with the release
/// layout (`milo.d/milo-task` beside it).
enum FootprintBench {
  struct Sample {
    var pssPerTask = Double.nan
    var supervisorRSS: [Double] = []
    var initRSS: [Double] = []
    var supervisorPSS: [Double] = []
    var initPSS: [Double] = []
  }

  /// `milo` is the release plugin with its `milo.d` beside it.
  static func run(nomad: String, milo: String, jarURL: String, tasks: Int, settle: Int) async throws -> BenchReport {
    let loadBefore = Proc.loadAverage()
    let helper = (milo as NSString).deletingLastPathComponent + "/milo.d/milo-task"
    guard FileManager.default.isExecutableFile(atPath: helper) else {
      throw BenchError("no helper at \(helper): build the release layout with scripts/build-release.sh")
    }
    // "Before": the plugin binary alone in a directory of its own.
    let alone = "/tmp/milo-bench-footprint-plugin-only"
    try? FileManager.default.removeItem(atPath: alone)
    try FileManager.default.createDirectory(atPath: alone, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: milo, toPath: alone + "/milo")
    let before = try await measure(
      nomad: nomad, milo: alone + "/milo", jarURL: jarURL, tasks: tasks, settle: settle, expectHelper: false)
    let after = try await measure(
      nomad: nomad, milo: milo, jarURL: jarURL, tasks: tasks, settle: settle, expectHelper: true)
    try? FileManager.default.removeItem(atPath: alone)

    func mib(_ kib: Double) -> Double { kib / 1024 }
    let mb = 1_000_000.0 / 1_048_576  // MiB per MB
    func row(_ metric: String, _ a: Double, _ b: Double, target: String = "", limitMB: Double? = nil) -> SummaryRow {
      SummaryRow(
        benchmark: "footprint \(tasks) tasks", metric: metric, milo: Fmt.num(a, 2), baseline: Fmt.num(b, 2),
        delta: Fmt.signed(a - b, 2), ratio: Fmt.ratio(a / b), target: target,
        met: limitMB.map { met(a <= $0 * mb) } ?? "")
    }
    let rows = [
      row(
        "PSS per task, supervisor + init (MiB): helper vs plugin binary", mib(after.pssPerTask),
        mib(before.pssPerTask), target: "≤ 1.5 MB", limitMB: 1.5),
      row(
        "supervisor RSS, max of \(tasks) (MiB): helper vs plugin binary", mib(Stats.max(after.supervisorRSS)),
        mib(Stats.max(before.supervisorRSS)), target: "≤ 3 MB", limitMB: 3),
      row(
        "init RSS, max of \(tasks) (MiB): helper vs plugin binary", mib(Stats.max(after.initRSS)),
        mib(Stats.max(before.initRSS)), target: "≤ 3 MB", limitMB: 3),
      row(
        "supervisor PSS, median (MiB): helper vs plugin binary", mib(Stats.median(after.supervisorPSS)),
        mib(Stats.median(before.supervisorPSS))),
      row(
        "init PSS, median (MiB): helper vs plugin binary", mib(Stats.median(after.initPSS)),
        mib(Stats.median(before.initPSS))),
    ]
    let details = [
      "One service job of \(tasks) tasks (`serve`, `-Xmx16m`, memory 96 MB) under a real Nomad server and client, "
        + "run twice in this benchmark: first with only the plugin binary in `plugin_dir` (it is then each task's "
        + "`supervise` and `init`: the baseline, as before the helper), then with the release layout, "
        + "`milo` plus `milo.d/milo-task`. \(settle) s after every task runs and logs, each process's "
        + "`/proc/<pid>/smaps_rollup`: the PSS of all \(2 * tasks) processes divided by \(tasks) (per task), "
        + "and RSS and PSS per process.",
      Fmt.table(
        ["layout", "PSS per task (MiB)", "supervisor RSS median/max (MiB)", "init RSS median/max (MiB)"],
        [("plugin binary only", before), ("milo + milo.d/milo-task", after)].map { name, sample in
          [
            name, Fmt.num(mib(sample.pssPerTask), 2),
            "\(Fmt.num(mib(Stats.median(sample.supervisorRSS)), 2)) / \(Fmt.num(mib(Stats.max(sample.supervisorRSS)), 2))",
            "\(Fmt.num(mib(Stats.median(sample.initRSS)), 2)) / \(Fmt.num(mib(Stats.max(sample.initRSS)), 2))",
          ]
        }),
    ]
    return BenchReport(
      title: "Under Nomad: what milo keeps beside each JVM, before and after the per-task helper",
      command: "milo-bench footprint --tasks \(tasks)", details: details, rows: rows, residue: [],
      loadBefore: loadBefore, loadAfter: Proc.loadAverage())
  }

  /// One cluster with `milo` in its plugin_dir, one job of `tasks` tasks, sampled once all run.
  static func measure(
    nomad: String, milo: String, jarURL: String, tasks: Int, settle: Int, expectHelper: Bool
  ) async throws -> Sample {
    let cluster = try NomadCluster(
      root: "/tmp/milo-bench-footprint", nomad: nomad, milo: milo, stateDir: "/run/milo-bench-footprint")
    do {
      try await cluster.start()
      var job = JobSpec(name: "footprint", artifactURL: jarURL)
      job.count = tasks
      job.args = ["serve", "2000"]
      job.jvmOptions = ["-Xmx16m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss256k"]
      job.memory = 96
      job.cpu = 20
      try await cluster.run(job)
      try await NomadBench.waitUntilLogging(cluster, job)
      try await Task.sleep(for: .seconds(settle))
      let stateDir = cluster.stateDir
      let supervisors = ProcessTable.pids { args in
        args.count > 1 && args[1] == "supervise" && args.contains { $0.hasPrefix(stateDir) }
      }
      let inits = ProcessTable.pids { args in args.first == "/.milo/init" }
      let helperPath = cluster.pluginDir + "/milo.d/milo-task"
      let usesHelper = supervisors.allSatisfy { ProcessTable.arguments(of: $0).first == helperPath }
      guard supervisors.count == tasks, inits.count == tasks, usesHelper == expectHelper else {
        throw BenchError(
          "expected \(tasks) supervisors and inits (helper: \(expectHelper)), found \(supervisors.count) and "
            + "\(inits.count) (helper: \(usesHelper))")
      }
      func field(_ pids: [Int32], _ name: String) -> [Double] {
        pids.compactMap { ProcessTable.smapsRollup($0, field: name) }.map(Double.init)
      }
      var sample = Sample()
      sample.supervisorRSS = field(supervisors, "Rss")
      sample.initRSS = field(inits, "Rss")
      sample.supervisorPSS = field(supervisors, "Pss")
      sample.initPSS = field(inits, "Pss")
      sample.pssPerTask = (sample.supervisorPSS.reduce(0, +) + sample.initPSS.reduce(0, +)) / Double(tasks)
      try await cluster.stopJob(job.name, timeout: 600)
      await cluster.stop()
      return sample
    } catch {
      let diagnostics = cluster.diagnostics()
      await cluster.stop()
      throw BenchError("\(error)\n\(diagnostics)")
    }
  }
}
