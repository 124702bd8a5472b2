import Foundation
import Milo
import MiloSupervisor
import MiloSys

#if canImport(Glibc)
  import Glibc
#endif

/// StartTask → the JVM's first stdout byte read from the logmon FIFO, against `java -jar` of the
/// same JAR on the host (spawn → first byte through a pipe), with `crun run` of milo's own
/// container (no milo) as a reference that splits the difference into container and milo.
enum StartLatencyBench {
  static let expected = "Hello from milo"

  static func run(_ context: BenchContext, runs: Int, warmup: Int) async throws -> BenchReport {
    let loadBefore = Proc.loadAverage()
    progress("start-latency: loading milo")
    let session = try await MiloSession.start(name: "start", milo: context.milo, jar: context.jar)
    var direct: DirectRunner?
    var milo: [Double] = []
    var rpc: [Double] = []
    var host: [Double] = []
    var container: [Double] = []
    var template: ContainerTemplate?
    do {
      let prepared = try session.prepare(BenchTask(args: ["hello"]))
      for index in 0..<(warmup + runs) {
        let measured = index >= warmup
        // Rotate the order so no path always runs first (page cache, CPU frequency).
        let order = [0, 1, 2].rotated(by: index % 3)
        for path in order {
          switch path {
          case 0:
            let result = try await miloOnce(session, prepared, capture: template == nil)
            if template == nil, let captured = result.template {
              template = captured
              direct = try DirectRunner(stateDir: session.stateDir, template: captured)
            }
            if measured {
              milo.append(result.firstByte)
              rpc.append(result.rpc)
            }
          case 1:
            guard let template else { continue }
            let value = try await hostOnce(template: template, jar: prepared.jar)
            if measured { host.append(value) }
          default:
            guard let direct else { continue }
            let value = try await containerOnce(direct)
            if measured { container.append(value) }
          }
        }
        progress(
          "start-latency: run \(index + 1)/\(warmup + runs)\(measured ? "" : " (warm-up)"): milo \(Fmt.num(milo.last ?? .nan)) ms, host \(Fmt.num(host.last ?? .nan)) ms, crun \(Fmt.num(container.last ?? .nan)) ms"
        )
      }
    } catch {
      direct?.cleanup()
      _ = await session.shutdown()
      throw error
    }
    direct?.cleanup()
    let residue = await session.shutdown()

    let miloMedian = Stats.median(milo)
    let hostMedian = Stats.median(host)
    let containerMedian = Stats.median(container)
    func row(_ name: String, _ values: [Double]) -> [String] {
      [
        name, Fmt.num(Stats.median(values)), Fmt.num(Stats.percentile(values, 90)), Fmt.num(Stats.min(values)),
        Fmt.num(Stats.max(values)),
      ]
    }
    let table = Fmt.table(
      ["path", "median ms", "p90 ms", "min ms", "max ms"],
      [
        row("**baseline**: host `java -jar` (spawn → first byte on a pipe)", host),
        row("reference: `crun run` of milo's container, no milo (spawn → first byte on a pipe)", container),
        row("**milo**: StartTask → first byte in the stdout FIFO", milo),
        row("milo: StartTask RPC (until it returned)", rpc),
      ])
    let jvm = template.map { "`\($0.javaPrefix.joined(separator: " ")) hello`" } ?? "?"
    let details = [
      "\(runs) measured runs per path (after \(warmup) warm-up), interleaved in rotating order. The JVM: \(jvm) "
        + "(TestApp `hello` prints its first line as soon as `main` runs). The milo clock starts just before the "
        + "StartTask RPC and stops when a logmon-like reader, blocked in `open` on the task's stdout FIFO since "
        + "before the RPC, reads the first byte. Task directories, FIFOs and the TaskConfig are built before the clock starts.",
      table,
      "milo − host: \(Fmt.signed(miloMedian - hostMedian)) ms (median), p90 \(Fmt.signed(Stats.percentile(milo, 90) - Stats.percentile(host, 90))) ms. "
        + "Of this, the container itself (crun − host) is \(Fmt.signed(containerMedian - hostMedian)) ms and milo's own path "
        + "(plugin, bundle, supervisor, relay; milo − crun) \(Fmt.signed(miloMedian - containerMedian)) ms.",
    ]
    let rows = [
      SummaryRow(
        benchmark: "start-latency", metric: "StartTask → first stdout byte, median (p90)",
        milo: "\(Fmt.num(miloMedian)) ms (\(Fmt.num(Stats.percentile(milo, 90))))",
        baseline: "\(Fmt.num(hostMedian)) ms (\(Fmt.num(Stats.percentile(host, 90)))) host `java -jar`",
        delta: "\(Fmt.signed(miloMedian - hostMedian)) ms", ratio: Fmt.ratio(miloMedian / hostMedian),
        target: "≤ +60 ms", met: met(miloMedian - hostMedian <= 60)),
      SummaryRow(
        benchmark: "start-latency", metric: "same, against `crun run` of the same container (reference)",
        milo: "\(Fmt.num(miloMedian)) ms", baseline: "\(Fmt.num(containerMedian)) ms `crun run`",
        delta: "\(Fmt.signed(miloMedian - containerMedian)) ms", ratio: Fmt.ratio(miloMedian / containerMedian),
        target: "—", met: "—"),
    ]
    return BenchReport(
      title: "start-latency", command: "milo-bench start-latency --runs \(runs)", details: details, rows: rows,
      residue: residue, loadBefore: loadBefore, loadAfter: Proc.loadAverage())
  }

  /// One start through milo: StartTask → first byte read from the stdout FIFO.
  static func miloOnce(_ session: MiloSession, _ prepared: PreparedTask, capture: Bool) async throws
    -> (firstByte: Double, rpc: Double, template: ContainerTemplate?)
  {
    let run = try await MiloRun.start(session, prepared)
    var template: ContainerTemplate?
    if capture {
      template = try ContainerTemplate.capture(bundleDir: session.bundleDir(taskID: run.taskID))
    }
    _ = await waitUntil(timeout: .seconds(60)) { run.stdout.firstByteNanos != nil }
    try await run.finish(session)
    guard let first = run.stdout.firstByteNanos, run.stdout.headText.hasPrefix(expected) else {
      throw BenchError(
        "milo: unexpected stdout \(run.stdout.headText.prefix(200)); stderr \(run.stderr.headText.prefix(500))")
    }
    return (Clock.ms(first - run.startedAt), Clock.ms(run.rpcReturnedAt - run.startedAt), template)
  }

  /// One `java -jar` on the host: spawn → first byte on a pipe.
  static func hostOnce(template: ContainerTemplate, jar: String) async throws -> Double {
    let out = try Posix.pipe()
    let drain = try StreamDrain(fd: out.read, label: "host")
    let argv = [template.java] + template.jvmOptions + ["-jar", jar, "hello"]
    let startedAt = Clock.mono()
    let pid: pid_t
    do {
      pid = try Spawn.start(argv, environment: Environment.list(), stdio: Spawn.Stdio(stdout: out.write))
    } catch {
      close(out.write)
      drain.interrupt()
      throw BenchError("spawn java: \(error)")
    }
    close(out.write)
    _ = await waitUntil(timeout: .seconds(60)) { drain.firstByteNanos != nil }
    let status = await Blocking.run { Spawn.waitFor(pid) }
    await drain.waitForEOF(timeout: .seconds(10))
    guard WaitStatus(status).shellExitCode == 0, let first = drain.firstByteNanos, drain.headText.hasPrefix(expected)
    else {
      throw BenchError("host java: exit \(WaitStatus(status).shellExitCode), stdout \(drain.headText.prefix(200))")
    }
    return Clock.ms(first - startedAt)
  }

  /// One `crun run` of milo's container (no milo): spawn → first byte on a pipe.
  static func containerOnce(_ direct: DirectRunner) async throws -> Double {
    let out = try Posix.pipe()
    let drain = try StreamDrain(fd: out.read, label: "crun")
    let errPath = direct.root + "/stderr.log"
    let err = try Descriptors.openForWriting(errPath)
    let container: DirectRunner.Container
    do {
      container = try direct.start(args: ["hello"], stdout: out.write, stderr: err)
    } catch {
      close(out.write)
      close(err)
      drain.interrupt()
      throw error
    }
    close(out.write)
    close(err)
    _ = await waitUntil(timeout: .seconds(60)) { drain.firstByteNanos != nil }
    let code = await direct.finish(container)
    await drain.waitForEOF(timeout: .seconds(10))
    guard code == 0, let first = drain.firstByteNanos, drain.headText.hasPrefix(expected) else {
      let stderr = Posix.readText(errPath) ?? ""
      throw BenchError("crun run: exit \(code), stdout \(drain.headText.prefix(200)), stderr \(stderr.prefix(1000))")
    }
    return Clock.ms(first - container.spawnedAt)
  }
}

extension Array {
  func rotated(by count: Int) -> [Element] {
    guard !isEmpty else { return self }
    let shift = count % self.count
    return Array(self[shift...] + self[..<shift])
  }
}
