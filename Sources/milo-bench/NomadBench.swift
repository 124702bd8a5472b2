import Foundation
import NomadE2E

/// Benchmarks under a real Nomad agent (server + client on loopback, milo in `plugin_dir`),
/// each against Nomad's built-in `java` driver measured in the same run under the same agent.
enum NomadBench {
  /// `job run` → the first log line readable through the HTTP API (as `nomad alloc logs` and
  /// the web UI read it), per driver, interleaved; raw_exec running `java -jar` is the floor.
  static func firstLine(_ cluster: NomadCluster, jarURL: String, runs: Int) async throws -> BenchReport {
    let loadBefore = Proc.loadAverage()
    let drivers: [JobSpec.Driver] = [.milo, .java, .rawExec]
    var samples: [JobSpec.Driver: [Double]] = [:]
    for run in 0..<(runs + 1) {
      for driver in drivers {
        var job = JobSpec(name: "first-\(driver.rawValue)-\(run)", artifactURL: jarURL)
        job.driver = driver
        job.type = "batch"
        job.args = ["hello"]
        let started = ContinuousClock.now
        try await cluster.run(job)
        let alloc = try await cluster.firstAllocation(of: job.name)
        try await waitFor("the first line of \(job.name)", timeout: 120, every: .milliseconds(20)) {
          let logs = (try? await cluster.api.logs(alloc: alloc, task: job.taskName)) ?? Data()
          return logs.starts(with: Data("Hello from milo\n".utf8))
        }
        let seconds = (ContinuousClock.now - started).seconds
        if run > 0 { samples[driver, default: []].append(seconds) }  // run 0 warms up
        try await cluster.stopJob(job.name, timeout: 60)
        try? await cluster.api.purge(job: job.name)
      }
    }
    let milo = Stats.median(samples[.milo] ?? [])
    let java = Stats.median(samples[.java] ?? [])
    let raw = Stats.median(samples[.rawExec] ?? [])
    var details = [
      "Each run submits a batch job whose JAR prints `Hello from milo` (`nomad job run -detach`) and polls "
        + "`GET /v1/client/fs/logs/<alloc>?type=stdout&plain=true&origin=start` every 20 ms until the line is there. "
        + "Drivers interleaved, one warm-up round first, \(runs) measured runs each."
    ]
    details.append(
      Fmt.table(
        ["driver", "median (s)", "min (s)", "max (s)"],
        drivers.map { driver in
          let values = samples[driver] ?? []
          return [
            driver.rawValue, Fmt.num(Stats.median(values), 3), Fmt.num(Stats.min(values), 3),
            Fmt.num(Stats.max(values), 3),
          ]
        }))
    let rows = [
      SummaryRow(
        benchmark: "nomad first line", metric: "job run → first log line (s), vs java driver",
        milo: Fmt.num(milo, 3), baseline: Fmt.num(java, 3), delta: Fmt.signed(milo - java, 3),
        ratio: Fmt.ratio(milo / java), target: "≤ 0.5 s", met: met(milo <= 0.5)),
      SummaryRow(
        benchmark: "nomad first line", metric: "job run → first log line (s), vs raw_exec (floor)",
        milo: Fmt.num(milo, 3), baseline: Fmt.num(raw, 3), delta: Fmt.signed(milo - raw, 3),
        ratio: Fmt.ratio(milo / raw), target: "", met: ""),
    ]
    return BenchReport(
      title: "Under Nomad: job run → first log line",
      command: "milo-bench nomad --runs \(runs)", details: details, rows: rows,
      residue: residueNotes(cluster), loadBefore: loadBefore, loadAfter: Proc.loadAverage())
  }

  /// N tasks of one job per driver: seconds until all run, driver-side PSS per task, the
  /// node's MemAvailable drop per task, and the plugin's RSS.
  static func manyTasks(_ cluster: NomadCluster, jarURL: String, tasks: Int, settle: Int) async throws
    -> BenchReport
  {
    let loadBefore = Proc.loadAverage()
    struct Sample {
      var upSeconds = Double.nan
      var driverPSSPerTask = Double.nan
      var memAvailableDropPerTask = Double.nan
      var pluginRSS = Double.nan
    }
    var results: [JobSpec.Driver: Sample] = [:]
    for driver in [JobSpec.Driver.milo, .java] {
      var job = JobSpec(name: "many-\(driver.rawValue)", artifactURL: jarURL)
      job.driver = driver
      job.count = tasks
      job.args = ["serve", "2000"]
      job.jvmOptions = ["-Xmx16m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss256k"]
      job.memory = 96
      job.cpu = 20
      try await Task.sleep(for: .seconds(5))
      let availableBefore = Double(ProcessTable.memAvailable())
      let started = ContinuousClock.now
      try await cluster.run(job)
      try await waitUntilLogging(cluster, job)
      var sample = Sample()
      sample.upSeconds = (ContinuousClock.now - started).seconds
      try await Task.sleep(for: .seconds(settle))
      sample.memAvailableDropPerTask =
        (availableBefore - Double(ProcessTable.memAvailable())) / Double(tasks) / 1024
      let driverPIDs: [Int32]
      switch driver {
      case .milo:
        // Each task's supervisor (`milo supervise`) and its container's PID 1 (`milo init`).
        driverPIDs = ProcessTable.pids { args in
          args.count > 1 && (args[1] == "supervise" || args[0] == "/.milo/init")
        }
        let plugin = cluster.pluginPIDs()
        sample.pluginRSS =
          plugin.compactMap { ProcessTable.smapsRollup($0, field: "Rss") }.map(Double.init).reduce(0, +) / 1024
      default:
        // Each task's `nomad executor`.
        driverPIDs = ProcessTable.pids { args in args.count > 1 && args[1] == "executor" }
      }
      let pss = driverPIDs.compactMap { ProcessTable.smapsRollup($0, field: "Pss") }.reduce(0, +)
      sample.driverPSSPerTask = Double(pss) / Double(tasks) / 1024
      results[driver] = sample
      try await cluster.stopJob(job.name, timeout: 600)
      try? await cluster.api.purge(job: job.name)
    }
    let milo = results[.milo] ?? Sample()
    let java = results[.java] ?? Sample()
    let details = [
      "One service job of \(tasks) tasks (`serve`, `-Xmx16m`, memory 96 MB, cpu 20 MHz) per driver, one after the other "
        + "under the same agent. \"Up\": `job run` → every task `running` with its first log line readable through the HTTP API. After \(settle) s: PSS (smaps_rollup) of what "
        + "the driver keeps beside each JVM (milo: `milo supervise` + the container's `milo init`; java: `nomad executor`), "
        + "and the drop in MemAvailable per task (the JVMs included)."
    ]
    func row(_ metric: String, _ m: Double, _ j: Double, _ digits: Int, target: String = "", ok: Bool? = nil)
      -> SummaryRow
    {
      SummaryRow(
        benchmark: "nomad \(tasks) tasks", metric: metric, milo: Fmt.num(m, digits), baseline: Fmt.num(j, digits),
        delta: Fmt.signed(m - j, digits), ratio: Fmt.ratio(m / j), target: target, met: ok.map(met) ?? "")
    }
    let rows = [
      row("all \(tasks) running and logging (s), vs java driver", milo.upSeconds, java.upSeconds, 1),
      row("driver PSS per task (MiB), vs java's executor", milo.driverPSSPerTask, java.driverPSSPerTask, 2),
      row(
        "MemAvailable drop per task (MiB), vs java driver", milo.memAvailableDropPerTask, java.memAvailableDropPerTask,
        1),
      SummaryRow(
        benchmark: "nomad \(tasks) tasks", metric: "plugin RSS with \(tasks) tasks (MiB)",
        milo: Fmt.num(milo.pluginRSS, 1), baseline: "n/a (in the client)", delta: "", ratio: "", target: "", met: ""),
    ]
    return BenchReport(
      title: "Under Nomad: \(tasks) tasks", command: "milo-bench nomad --tasks \(tasks)", details: details,
      rows: rows, residue: residueNotes(cluster), loadBefore: loadBefore, loadAfter: Proc.loadAverage())
  }

  /// Waits until all of `job`'s tasks run, each with its first log line (of `serve`) readable
  /// through the HTTP API.
  static func waitUntilLogging(_ cluster: NomadCluster, _ job: JobSpec) async throws {
    var logged = Set<String>()
    try await waitFor("\(job.count) \(job.driver.rawValue) tasks logging", timeout: 1800, every: .milliseconds(500)) {
      let allocs = (try? await cluster.api.allocations(job: job.name)) ?? []
      for alloc in allocs where !logged.contains(alloc.id) && alloc.taskStates[job.taskName]?.state == "running" {
        let logs = (try? await cluster.api.logs(alloc: alloc.id, task: job.taskName)) ?? Data()
        if logs.starts(with: Data("Starting application...\n".utf8)) { logged.insert(alloc.id) }
      }
      return logged.count == job.count
    }
  }

  private static func residueNotes(_ cluster: NomadCluster) -> [String] {
    let residue = HostResidue.scan(stateDir: cluster.stateDir)
    return residue.isEmpty ? [] : [residue.description]
  }
}

extension Duration {
  /// The duration in seconds.
  var seconds: Double {
    let (s, attoseconds) = components
    return Double(s) + Double(attoseconds) / 1e18
  }
}
