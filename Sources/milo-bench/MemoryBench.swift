import Foundation
import Milo
import MiloSupervisor
import MiloSys

#if canImport(Glibc)
  import Glibc
#endif

/// Supervisor memory per running task and the plugin's memory with many tasks running.
enum MemoryBench {
  static func run(_ context: BenchContext, tasks: Int, settle: Int) async throws -> BenchReport {
    let loadBefore = Proc.loadAverage()
    progress("memory: loading milo")
    let session = try await MiloSession.start(name: "memory", milo: context.milo, jar: context.jar)
    var runs: [MiloRun] = []
    var supervisors: [ProcMemory] = []
    var jvms: [ProcMemory] = []
    var inits: [ProcMemory] = []
    var pluginIdle: ProcMemory?
    var pluginLoaded: ProcMemory?
    var supervisorSamples: [[ProcMemory]] = []
    var catFloor: ProcMemory?
    do {
      try await Task.sleep(for: .seconds(2))
      pluginIdle = ProcMemory.read(pid: session.pluginPid)
      var prepared: [PreparedTask] = []
      for _ in 0..<tasks {
        prepared.append(
          try session.prepare(BenchTask(args: ["serve"], jvmOptions: ["-Xmx16m", "-Xshare:auto"], memoryMB: 128)))
      }
      for (index, task) in prepared.enumerated() {
        runs.append(try await MiloRun.start(session, task))
        if (index + 1) % 10 == 0 || index + 1 == tasks { progress("memory: \(index + 1)/\(tasks) tasks started") }
      }
      let allRunning = await waitUntil(timeout: .seconds(300), every: .milliseconds(100)) {
        runs.allSatisfy { $0.stdout.firstByteNanos != nil }
      }
      guard allRunning else {
        let missing = runs.filter { $0.stdout.firstByteNanos == nil }.count
        throw BenchError("\(missing) of \(tasks) tasks did not print their banner within 300 s")
      }
      progress("memory: all \(tasks) tasks running; settling \(settle) s")
      // Three samples over the settle period, to see whether the supervisors' memory moves.
      for step in 0..<3 {
        try await Task.sleep(for: .seconds(Double(settle) / 3))
        var sample: [ProcMemory] = []
        for run in runs {
          if let pid = session.supervisorPid(taskID: run.taskID), let memory = ProcMemory.read(pid: pid) {
            sample.append(memory)
          }
        }
        supervisorSamples.append(sample)
        progress(
          "memory: sample \(step + 1)/3: \(sample.count) supervisors, median RSS \(Fmt.mib(Stats.median(sample.map { Double($0.rss) }))) MiB"
        )
      }
      supervisors = supervisorSamples.last ?? []
      // The supervisor's child is the container's `milo init`, whose child is the JVM.
      for run in runs {
        guard let pid = session.supervisorPid(taskID: run.taskID) else { continue }
        for initPid in Proc.children(of: pid) {
          if let memory = ProcMemory.read(pid: initPid) { inits.append(memory) }
          for jvm in Proc.children(of: initPid) {
            if let memory = ProcMemory.read(pid: jvm) { jvms.append(memory) }
          }
        }
      }
      pluginLoaded = ProcMemory.read(pid: session.pluginPid)
      catFloor = try await measureCat(in: session.stateDir)
      progress("memory: stopping \(tasks) tasks")
      await withTaskGroup(of: Void.self) { group in
        for run in runs { group.addTask { await session.stopAndDestroy(run.taskID) } }
      }
      for run in runs {
        await run.stdout.waitForEOF(timeout: .seconds(10))
        await run.stderr.waitForEOF(timeout: .seconds(10))
      }
    } catch {
      for run in runs { await session.stopAndDestroy(run.taskID) }
      _ = await session.shutdown()
      throw error
    }
    let residue = await session.shutdown()

    guard supervisors.count == tasks else {
      throw BenchError("found \(supervisors.count) supervisors for \(tasks) tasks")
    }
    let mib = 1_048_576.0
    func stats(_ values: [Double]) -> [String] {
      [
        Fmt.num(Stats.median(values) / mib, 2), Fmt.num(Stats.min(values) / mib, 2),
        Fmt.num(Stats.max(values) / mib, 2),
      ]
    }
    let rss = supervisors.map { Double($0.rss) }
    let pss = supervisors.map { Double($0.pss) }
    let priv = supervisors.map { Double($0.privateBytes) }
    let anon = supervisors.map { Double($0.anonymous) }
    let jvmRSS = jvms.map { Double($0.rss) }
    let initRSS = inits.map { Double($0.rss) }
    let initPSS = inits.map { Double($0.pss) }
    let initAnon = inits.map { Double($0.anonymous) }
    let supervisorTable = Fmt.table(
      ["per task (\(tasks) tasks)", "median MiB", "min MiB", "max MiB"],
      [
        ["supervisor RSS"] + stats(rss),
        ["supervisor PSS"] + stats(pss),
        ["supervisor private (clean + dirty)"] + stats(priv),
        ["supervisor anonymous"] + stats(anon),
        ["container init (`milo init`) RSS"] + stats(initRSS),
        ["container init PSS"] + stats(initPSS),
        ["container init anonymous"] + stats(initAnon),
        ["JVM RSS (`-Xmx16m`, for scale)"] + stats(jvmRSS),
        [
          "`cat` relaying a pipe into a FIFO (a C floor, for scale)", catFloor.map { Fmt.mib(Double($0.rss)) } ?? "n/a",
          "", "",
        ],
      ])
    let sampleLine = supervisorSamples.enumerated().map { index, sample in
      "sample \(index + 1): RSS \(Fmt.mib(Stats.median(sample.map { Double($0.rss) }))), PSS \(Fmt.mib(Stats.median(sample.map { Double($0.pss) })))"
    }.joined(separator: "; ")
    let idle = pluginIdle.map { Double($0.rss) } ?? .nan
    let loaded = pluginLoaded.map { Double($0.rss) } ?? .nan
    let pluginTable = Fmt.table(
      ["plugin (`milo`)", "RSS MiB", "PSS MiB", "private MiB", "anonymous MiB"],
      [
        ["idle (no task, after fingerprinting)"] + memoryCells(pluginIdle),
        ["with \(tasks) tasks running"] + memoryCells(pluginLoaded),
      ])
    let totalPSS = pss.reduce(0, +)
    let details = [
      "\(tasks) tasks, each TaskConfig `java -Xmx16m -Xshare:auto -jar local/testapp.jar serve` (a line every 2 s), "
        + "memory 128 MB, started one after another through StartTask with logmon-like readers on every FIFO; "
        + "measured \(settle) s after the last banner arrived, from `/proc/<pid>/smaps_rollup`. "
        + "The supervisor madvise()s its startup code pages away once the container runs "
        + "(`ProcessRole.releaseStartupMemory`); the numbers are as measured, after that, while the relays run. "
        + "Median supervisor memory over the settle period: \(sampleLine) MiB.",
      supervisorTable,
      "All \(tasks) supervisors together: PSS \(Fmt.mib(totalPSS)) MiB (RSS double-counts the shared pages of the one static binary; PSS splits them).",
      pluginTable,
      "Plugin growth with \(tasks) tasks: \(Fmt.signed((loaded - idle) / mib, 2)) MiB RSS, \(Fmt.num((loaded - idle) / Double(tasks) / 1024, 1)) KiB per task.",
      "Nomad's built-in java driver keeps one executor process (a `nomad executor` Go process, about 40 MB RSS "
        + "according to the issue) per task; no Nomad binary is available here, so that figure is **not measured** by this run.",
    ]
    let rows = [
      SummaryRow(
        benchmark: "memory", metric: "supervisor RSS per task, median (max)",
        milo: "\(Fmt.mib(Stats.median(rss))) MiB (\(Fmt.mib(Stats.max(rss))))",
        baseline: "\(Fmt.mib(Stats.median(jvmRSS))) MiB JVM RSS of the same task",
        delta: "—", ratio: Fmt.ratio(Stats.median(rss) / Stats.median(jvmRSS)),
        target: "≤ 5 MB (4.77 MiB)", met: met(Stats.median(rss) <= 5_000_000)),
      SummaryRow(
        benchmark: "memory", metric: "supervisor PSS / private / anonymous per task, median",
        milo: "\(Fmt.mib(Stats.median(pss))) / \(Fmt.mib(Stats.median(priv))) / \(Fmt.mib(Stats.median(anon))) MiB",
        baseline: catFloor.map {
          "\(Fmt.mib(Double($0.pss))) / \(Fmt.mib(Double($0.privateBytes))) / \(Fmt.mib(Double($0.anonymous))) MiB `cat`"
        } ?? "n/a",
        delta: "—", ratio: catFloor.map { Fmt.ratio(Stats.median(pss) / Double($0.pss)) + " (PSS)" } ?? "n/a",
        target: "—", met: "—"),
      SummaryRow(
        benchmark: "memory", metric: "`milo init` (container PID 1) RSS / PSS / anonymous per task, median",
        milo:
          "\(Fmt.mib(Stats.median(initRSS))) / \(Fmt.mib(Stats.median(initPSS))) / \(Fmt.mib(Stats.median(initAnon))) MiB",
        baseline: "—", delta: "—", ratio: "—", target: "—", met: "—"),
      SummaryRow(
        benchmark: "memory", metric: "plugin RSS with \(tasks) tasks",
        milo: "\(Fmt.mib(loaded)) MiB", baseline: "\(Fmt.mib(idle)) MiB idle plugin",
        delta: "\(Fmt.signed((loaded - idle) / mib, 2)) MiB", ratio: Fmt.ratio(loaded / idle),
        target: "—", met: "—"),
    ]
    return BenchReport(
      title: "memory", command: "milo-bench memory --tasks \(tasks)", details: details, rows: rows,
      residue: residue, loadBefore: loadBefore, loadAfter: Proc.loadAverage())
  }

  static func memoryCells(_ memory: ProcMemory?) -> [String] {
    guard let memory else { return ["n/a", "n/a", "n/a", "n/a"] }
    return [
      Fmt.mib(Double(memory.rss)), Fmt.mib(Double(memory.pss)), Fmt.mib(Double(memory.privateBytes)),
      Fmt.mib(Double(memory.anonymous)),
    ]
  }

  /// The memory of `cat` relaying a pipe into a FIFO (after relaying a few lines).
  static func measureCat(in stateDir: String) async throws -> ProcMemory? {
    guard let cat = Environment.executable(named: "cat") else { return nil }
    let fifo = stateDir + "/cat-floor.fifo"
    guard mkfifo(fifo, 0o600) == 0 else { return nil }
    defer { unlink(fifo) }
    let drain = try StreamDrain(fifo: fifo, label: "cat")
    let sink = try Descriptors.openFifoForWriting(fifo)
    let input = try Posix.pipe()
    let pid = try Spawn.start(
      [cat], environment: Environment.list(), stdio: Spawn.Stdio(stdin: input.read, stdout: sink))
    close(input.read)
    close(sink)
    let line = Array("Processing...\n".utf8)
    for _ in 0..<100 { Posix.writeAll(input.write, line) }
    _ = await waitUntil(timeout: .seconds(10)) { drain.bytes == line.count * 100 }
    try await Task.sleep(for: .milliseconds(200))
    let memory = ProcMemory.read(pid: pid)
    close(input.write)
    _ = await Blocking.run { Spawn.waitFor(pid) }
    await drain.waitForEOF(timeout: .seconds(5))
    return memory
  }
}
