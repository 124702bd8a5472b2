import Foundation

/// A session with one prepared task and the clone runner built from milo's own container
/// (captured during a first, warm-up run through milo).
struct LogBenchSetup {
  var session: MiloSession
  var prepared: PreparedTask
  var direct: DirectRunner
  var warmup: MiloStreamResult

  static func make(
    name: String, _ context: BenchContext, task: BenchTask, options: StreamDrain.Options = StreamDrain.Options()
  ) async throws
    -> LogBenchSetup
  {
    progress("\(name): loading milo")
    let session = try await MiloSession.start(name: name, milo: context.milo, jar: context.jar)
    do {
      let prepared = try session.prepare(task)
      progress("\(name): warm-up run through milo (captures milo's container for the baseline)")
      let warmup = try await LogPaths.viaMilo(session, prepared, options: options, capture: true)
      guard let template = warmup.template else { throw BenchError("no container template") }
      let direct = try DirectRunner(stateDir: session.stateDir, template: template)
      return LogBenchSetup(session: session, prepared: prepared, direct: direct, warmup: warmup)
    } catch {
      _ = await session.shutdown()
      throw error
    }
  }

  func teardown() async -> [String] {
    direct.cleanup()
    return await session.shutdown()
  }

  var jvmCommand: String {
    "`\(direct.template.javaPrefix.joined(separator: " ")) \(prepared.task.args.joined(separator: " "))`"
  }
}

// MARK: - log-throughput

enum ThroughputBench {
  static func run(_ context: BenchContext, bytes: Int, runs: Int) async throws -> BenchReport {
    let loadBefore = Proc.loadAverage()
    let args = ["throughput", String(bytes)]
    let setup = try await LogBenchSetup.make(name: "throughput", context, task: BenchTask(args: args))
    var milo: [Double] = []
    var direct: [Double] = []
    var viaCat: [Double] = []
    var cpuPerGiB: [Double] = []
    var miloBytes: [Int] = []
    var idle: [Int: [Double]] = [:]
    do {
      progress("log-throughput: warm-up run, direct")
      _ = try await LogPaths.direct(setup.direct, args: args)
      for index in 0..<runs {
        // Rotate the order so no path always runs first.
        for path in [0, 1, 2].rotated(by: index % 3) {
          switch path {
          case 0:
            let result = try await LogPaths.viaMilo(setup.session, setup.prepared, capture: false)
            milo.append(LogPaths.megabytesPerSecond(result.run.stdout))
            miloBytes.append(result.run.stdout.bytes)
            idle[0, default: []].append(LogPaths.idleFraction(result.run.stdout))
            if result.sampledAtEOF, let cpu = result.cpuSeconds {
              cpuPerGiB.append(cpu / (Double(bytes) / 1_073_741_824))
            }
          case 1:
            let drain = try await LogPaths.direct(setup.direct, args: args)
            guard drain.bytes == bytes else {
              throw BenchError("direct run delivered \(drain.bytes) of \(bytes) bytes")
            }
            direct.append(LogPaths.megabytesPerSecond(drain))
            idle[1, default: []].append(LogPaths.idleFraction(drain))
          default:
            let result = try await LogPaths.viaCat(setup.direct, args: args)
            guard result.drain.bytes == bytes else {
              throw BenchError("cat run delivered \(result.drain.bytes) of \(bytes) bytes")
            }
            viaCat.append(LogPaths.megabytesPerSecond(result.drain))
            idle[2, default: []].append(LogPaths.idleFraction(result.drain))
          }
        }
        progress(
          "log-throughput: run \(index + 1)/\(runs): milo \(Fmt.num(milo.last ?? .nan)) MB/s, direct \(Fmt.num(direct.last ?? .nan)) MB/s, cat \(Fmt.num(viaCat.last ?? .nan)) MB/s"
        )
      }
    } catch {
      _ = await setup.teardown()
      throw error
    }
    let residue = await setup.teardown()
    let ratio = Stats.median(milo) / Stats.median(direct)
    let complete = miloBytes.allSatisfy { $0 == bytes }
    let details = [
      "Each run writes \(bytes) bytes (\(Fmt.mib(Double(bytes))) MiB) of 100-byte lines in 65,500-byte writes: "
        + "\(setup.jvmCommand). The reader is logmon-like (blocking open, 32 KiB non-blocking reads with poll, bytes counted "
        + "and discarded). Throughput = bytes / (last byte − first byte) at the reader, in MB/s (10^6 bytes/s), so JVM start-up "
        + "is excluded. **Baseline**: the same JVM in an identical crun container (milo's own bundle for this task, cloned, "
        + "run with `crun run` in the foreground) whose stdout IS the FIFO, as with Nomad's java driver. "
        + "Reference: the same container's stdout is a pipe that `cat` copies into the FIFO, i.e. the cheapest possible "
        + "copying relay (what any supervisor that reads and writes the bytes costs on this machine). "
        + "\(runs) measured runs per path, in rotating order, after one warm-up run through milo and one direct.",
      Fmt.table(
        ["path", "median MB/s", "min", "max", "runs", "reader waiting for data (median % of the transfer)"],
        [
          [
            "**baseline**: JVM stdout = FIFO (crun container)", Fmt.num(Stats.median(direct)),
            Fmt.num(Stats.min(direct)), Fmt.num(Stats.max(direct)), Fmt.list(direct),
            Fmt.num(Stats.median(idle[1] ?? []) * 100) + " %",
          ],
          [
            "**milo**: JVM → pipe → supervisor → FIFO", Fmt.num(Stats.median(milo)), Fmt.num(Stats.min(milo)),
            Fmt.num(Stats.max(milo)), Fmt.list(milo), Fmt.num(Stats.median(idle[0] ?? []) * 100) + " %",
          ],
          [
            "reference: JVM → pipe → `cat` → FIFO (the minimal copying relay)", Fmt.num(Stats.median(viaCat)),
            Fmt.num(Stats.min(viaCat)), Fmt.num(Stats.max(viaCat)), Fmt.list(viaCat),
            Fmt.num(Stats.median(idle[2] ?? []) * 100) + " %",
          ],
        ]),
      "Bytes received through milo: \(complete ? "all \(bytes) in every run (nothing dropped)" : miloBytes.map(String.init).joined(separator: ", ") + " of \(bytes) (the relay dropped lines)"). "
        + "Supervisor CPU during these runs: \(Fmt.num(Stats.median(cpuPerGiB), 3)) s per GiB (median; see relay-cpu).",
    ]
    let rows = [
      SummaryRow(
        benchmark: "log-throughput", metric: "MB/s JVM → log reader, median",
        milo: "\(Fmt.num(Stats.median(milo))) MB/s",
        baseline: "\(Fmt.num(Stats.median(direct))) MB/s JVM stdout = FIFO",
        delta: "\(Fmt.signed(Stats.median(milo) - Stats.median(direct))) MB/s", ratio: Fmt.ratio(ratio),
        target: "≥ 0.95×", met: met(ratio >= 0.95 && complete)),
      SummaryRow(
        benchmark: "log-throughput", metric: "same, against `cat` as the relay (reference)",
        milo: "\(Fmt.num(Stats.median(milo))) MB/s", baseline: "\(Fmt.num(Stats.median(viaCat))) MB/s via `cat`",
        delta: "\(Fmt.signed(Stats.median(milo) - Stats.median(viaCat))) MB/s",
        ratio: Fmt.ratio(Stats.median(milo) / Stats.median(viaCat)), target: "—", met: "—"),
    ]
    return BenchReport(
      title: "log-throughput", command: "milo-bench log-throughput --bytes \(bytes) --runs \(runs)", details: details,
      rows: rows, residue: residue, loadBefore: loadBefore, loadAfter: Proc.loadAverage())
  }
}

// MARK: - log-latency

enum LatencyBench {
  static func run(_ context: BenchContext, lines: Int, intervalMicros: Int, runs: Int) async throws -> BenchReport {
    let loadBefore = Proc.loadAverage()
    let args = ["timestamps", String(lines), String(intervalMicros)]
    var options = StreamDrain.Options()
    options.timestamps = true
    let setup = try await LogBenchSetup.make(name: "latency", context, task: BenchTask(args: args), options: options)
    var milo: [[Double]] = []
    var direct: [[Double]] = []
    do {
      progress("log-latency: warm-up run, direct")
      _ = try await LogPaths.direct(setup.direct, args: args, options: options)
      for index in 0..<runs {
        for path in (index % 2 == 0 ? [0, 1] : [1, 0]) {
          if path == 0 {
            let result = try await LogPaths.viaMilo(setup.session, setup.prepared, options: options, capture: false)
            let values = result.run.stdout.latencies.map { Double($0) / 1e6 }
            guard values.count == lines else { throw BenchError("milo: \(values.count) of \(lines) lines arrived") }
            milo.append(values)
          } else {
            let drain = try await LogPaths.direct(setup.direct, args: args, options: options)
            let values = drain.latencies.map { Double($0) / 1e6 }
            guard values.count == lines else { throw BenchError("direct: \(values.count) of \(lines) lines arrived") }
            direct.append(values)
          }
        }
        progress(
          "log-latency: run \(index + 1)/\(runs): p99 milo \(Fmt.num(Stats.percentile(milo.last ?? [], 99), 3)) ms, direct \(Fmt.num(Stats.percentile(direct.last ?? [], 99), 3)) ms"
        )
      }
    } catch {
      _ = await setup.teardown()
      throw error
    }
    let residue = await setup.teardown()
    let allMilo = milo.flatMap { $0 }
    let allDirect = direct.flatMap { $0 }
    func row(_ name: String, _ values: [Double], _ perRun: [[Double]]) -> [String] {
      [
        name, Fmt.num(Stats.percentile(values, 50), 3), Fmt.num(Stats.percentile(values, 90), 3),
        Fmt.num(Stats.percentile(values, 99), 3), Fmt.num(Stats.max(values), 3),
        Fmt.list(perRun.map { Stats.percentile($0, 99) }, 3),
      ]
    }
    let p50 = (Stats.percentile(allMilo, 50), Stats.percentile(allDirect, 50))
    let p99 = (Stats.percentile(allMilo, 99), Stats.percentile(allDirect, 99))
    let details = [
      "The JVM prints \(lines) lines `ts <wall-clock ns>` (`Instant.now()`, then `System.out.println`, which flushes), one every "
        + "\(intervalMicros) µs: \(setup.jvmCommand). The reader stamps each read with CLOCK_REALTIME; latency = arrival − stamp "
        + "(same host, same clock). **Baseline**: the same JVM in an identical crun container whose stdout is the FIFO. "
        + "\(runs) runs per path (alternating, after one warm-up each); percentiles over all \(runs * lines) lines of a path.",
      Fmt.table(
        ["path", "p50 ms", "p90 ms", "p99 ms", "max ms", "p99 per run"],
        [
          row("**baseline**: JVM stdout = FIFO (crun container)", allDirect, direct),
          row("**milo**: JVM → pipe → supervisor → FIFO", allMilo, milo),
        ]),
      "Added by milo: p50 \(Fmt.signed((p50.0 - p50.1) * 1000, 0)) µs, p99 \(Fmt.signed((p99.0 - p99.1) * 1000, 0)) µs.",
    ]
    let rows = [
      SummaryRow(
        benchmark: "log-latency", metric: "per-line latency p99 (p50)",
        milo: "\(Fmt.num(p99.0, 3)) ms (\(Fmt.num(p50.0, 3)))",
        baseline: "\(Fmt.num(p99.1, 3)) ms (\(Fmt.num(p50.1, 3))) JVM stdout = FIFO",
        delta: "p99 \(Fmt.signed(p99.0 - p99.1, 3)) ms, p50 \(Fmt.signed(p50.0 - p50.1, 3)) ms",
        ratio: "\(Fmt.ratio(p99.0 / p99.1)) (p99)", target: "p99 ≤ +1 ms", met: met(p99.0 - p99.1 <= 1))
    ]
    return BenchReport(
      title: "log-latency", command: "milo-bench log-latency --lines \(lines)", details: details, rows: rows,
      residue: residue, loadBefore: loadBefore, loadAfter: Proc.loadAverage())
  }
}

// MARK: - relay-cpu

enum RelayCPUBench {
  static func run(_ context: BenchContext, bytes: Int, runs: Int) async throws -> BenchReport {
    let loadBefore = Proc.loadAverage()
    let args = ["throughput", String(bytes)]
    let gib = Double(bytes) / 1_073_741_824
    let setup = try await LogBenchSetup.make(name: "relay-cpu", context, task: BenchTask(args: args))
    var milo: [Double] = []
    var miloUser: [Double] = []
    var miloSystem: [Double] = []
    var cat: [Double] = []
    var catUser: [Double] = []
    var catSystem: [Double] = []
    var unsampled = 0
    var delivered: [Int] = []
    do {
      for index in 0..<runs {
        for path in (index % 2 == 0 ? [0, 1] : [1, 0]) {
          if path == 0 {
            let result = try await LogPaths.viaMilo(setup.session, setup.prepared, capture: false)
            delivered.append(result.run.stdout.bytes)
            guard result.sampledAtEOF, let cpu = result.cpuSeconds else {
              unsampled += 1
              continue
            }
            milo.append(cpu / gib)
            miloUser.append((result.userSeconds ?? .nan) / gib)
            miloSystem.append((result.systemSeconds ?? .nan) / gib)
          } else {
            let result = try await LogPaths.viaCat(setup.direct, args: args)
            guard result.drain.bytes == bytes else {
              throw BenchError("cat run: \(result.drain.bytes) of \(bytes) bytes")
            }
            cat.append((result.user + result.system) / gib)
            catUser.append(result.user / gib)
            catSystem.append(result.system / gib)
          }
        }
        progress(
          "relay-cpu: run \(index + 1)/\(runs): supervisor \(Fmt.num(milo.last ?? .nan, 3)) s/GiB, cat \(Fmt.num(cat.last ?? .nan, 3)) s/GiB"
        )
      }
    } catch {
      _ = await setup.teardown()
      throw error
    }
    let residue = await setup.teardown()
    let ratio = Stats.median(milo) / Stats.median(cat)
    let details = [
      "The JVM writes \(bytes) bytes of 100-byte lines (\(setup.jvmCommand)) through milo to a logmon-like reader; the "
        + "supervisor's CPU time is its scheduler run time (`/proc/<pid>/schedstat`, ns) between StartTask's return and "
        + "the stdout FIFO's EOF (user/system split from `/proc/<pid>/stat` ticks, 10 ms resolution). **Baseline**: the "
        + "minimal relay, `cat` copying the same JVM's pipe (same container, cloned) into the FIFO, its CPU from `wait4` rusage. "
        + "\(runs) runs per path, alternating, after a warm-up run through milo.",
      Fmt.table(
        ["relay", "CPU s/GiB median", "user s/GiB", "system s/GiB", "runs (s/GiB)"],
        [
          [
            "**baseline**: `cat` (pipe → FIFO)", Fmt.num(Stats.median(cat), 3), Fmt.num(Stats.median(catUser), 3),
            Fmt.num(Stats.median(catSystem), 3), Fmt.list(cat, 3),
          ],
          [
            "**milo** supervisor (pipe → buffer → FIFO)", Fmt.num(Stats.median(milo), 3),
            Fmt.num(Stats.median(miloUser), 3), Fmt.num(Stats.median(miloSystem), 3), Fmt.list(milo, 3),
          ],
        ]),
      (unsampled == 0
        ? "Every supervisor sample was taken at EOF. "
        : "\(unsampled) run(s) could not sample the supervisor at EOF (it had already exited); their figure is missing or low. ")
        + "Per GiB means per GiB the JVM wrote (all of which the supervisor read); bytes that reached the reader through milo: "
        + (delivered.allSatisfy { $0 == bytes }
          ? "all, in every run."
          : delivered.map(String.init).joined(separator: ", ")
            + " of \(bytes) (the relay dropped the rest: its buffer overflowed)."),
    ]
    let rows = [
      SummaryRow(
        benchmark: "relay-cpu", metric: "relay CPU time per GiB, median",
        milo: "\(Fmt.num(Stats.median(milo), 3)) s/GiB", baseline: "\(Fmt.num(Stats.median(cat), 3)) s/GiB `cat`",
        delta: "\(Fmt.signed(Stats.median(milo) - Stats.median(cat), 3)) s/GiB", ratio: Fmt.ratio(ratio),
        target: "— (no target)", met: "—")
    ]
    return BenchReport(
      title: "relay-cpu", command: "milo-bench relay-cpu --bytes \(bytes) --runs \(runs)", details: details, rows: rows,
      residue: residue, loadBefore: loadBefore, loadAfter: Proc.loadAverage())
  }
}
