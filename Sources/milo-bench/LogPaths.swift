import Foundation
import Milo
import MiloSupervisor
import MiloSys
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// One JVM run whose stdout went through milo, with the supervisor's CPU time over the relay.
struct MiloStreamResult {
  var run: MiloRun
  /// Supervisor CPU between StartTask's return and the stdout FIFO's EOF (nil when unreadable).
  var cpuBefore: ProcCPU?
  var cpuAfter: ProcCPU?
  /// Whether the last CPU sample was taken at EOF (else later, or never: the supervisor had gone).
  var sampledAtEOF: Bool
  var template: ContainerTemplate?

  var cpuSeconds: Double? {
    guard let cpuBefore, let cpuAfter else { return nil }
    return Double(cpuAfter.runNanos - cpuBefore.runNanos) / 1e9
  }
  var userSeconds: Double? {
    guard let cpuBefore, let cpuAfter else { return nil }
    return cpuAfter.utimeSeconds - cpuBefore.utimeSeconds
  }
  var systemSeconds: Double? {
    guard let cpuBefore, let cpuAfter else { return nil }
    return cpuAfter.stimeSeconds - cpuBefore.stimeSeconds
  }
}

/// Samples one process's CPU: once when attached, and once when `sampleAtEOF` is called.
final class CPUProbe: Sendable {
  private let state = Mutex<(pid: Int32, initial: ProcCPU?, atEOF: ProcCPU?)>((0, nil, nil))

  func attach(pid: Int32) {
    let sample = ProcCPU.read(pid: pid)
    state.withLock { $0 = (pid, sample, $0.atEOF) }
  }

  func sampleAtEOF() {
    let pid = state.withLock { $0.pid }
    guard pid > 0, let sample = ProcCPU.read(pid: pid) else { return }
    state.withLock { $0.atEOF = sample }
  }

  var initial: ProcCPU? { state.withLock { $0.initial } }
  var atEOF: ProcCPU? { state.withLock { $0.atEOF } }
  /// A sample now (nil once the process is gone).
  var latest: ProcCPU? {
    let pid = state.withLock { $0.pid }
    return pid > 0 ? ProcCPU.read(pid: pid) : nil
  }
}

/// The two ways a JVM's stdout reaches the log reader.
enum LogPaths {
  /// Through milo: StartTask, the supervisor relays the container's pipe into the FIFO.
  static func viaMilo(
    _ session: MiloSession, _ prepared: PreparedTask, options: StreamDrain.Options = StreamDrain.Options(),
    capture: Bool, timeout: Duration = .seconds(900)
  ) async throws -> MiloStreamResult {
    // The supervisor's CPU is sampled by the reader thread the moment it reads EOF (the relay's
    // work is done then; the supervisor exits soon after).
    let probe = CPUProbe()
    var options = options
    options.onEOF = { probe.sampleAtEOF() }
    let run = try await MiloRun.start(session, prepared, options: options)
    var template: ContainerTemplate?
    if capture {
      template = try ContainerTemplate.capture(bundleDir: session.bundleDir(taskID: run.taskID))
    }
    if let supervisor = session.supervisorPid(taskID: run.taskID) { probe.attach(pid: supervisor) }
    let before = probe.initial
    _ = await run.stdout.finished.wait(timeout: timeout)
    let after = probe.atEOF ?? probe.latest
    let atEOF = probe.atEOF != nil
    try await run.finish(session, timeout: .seconds(30))
    return MiloStreamResult(run: run, cpuBefore: before, cpuAfter: after, sampledAtEOF: atEOF, template: template)
  }

  /// The built-in java driver's path: the JVM (in a clone of milo's container) has the FIFO as
  /// its stdout.
  static func direct(
    _ direct: DirectRunner, args: [String], options: StreamDrain.Options = StreamDrain.Options(),
    timeout: Duration = .seconds(900)
  ) async throws -> StreamDrain {
    let fifo = direct.root + "/stdout-\(UUID().uuidString.prefix(8)).fifo"
    guard mkfifo(fifo, 0o600) == 0 else { throw BenchError("mkfifo \(fifo): \(String(cString: strerror(errno)))") }
    defer { unlink(fifo) }
    let drain = try StreamDrain(fifo: fifo, label: "direct", options: options)
    let sink = try Descriptors.openFifoForWriting(fifo)
    let errPath = direct.root + "/stderr.log"
    let err = try Descriptors.openForWriting(errPath)
    let container: DirectRunner.Container
    do {
      container = try direct.start(args: args, stdout: sink, stderr: err)
    } catch {
      close(sink)
      close(err)
      drain.interrupt()
      throw error
    }
    close(sink)
    close(err)
    let eof = await drain.waitForEOF(timeout: timeout)
    let code = await direct.finish(container)
    guard eof, code == 0 else {
      throw BenchError("direct run: eof \(eof), exit \(code), stderr \(Posix.readText(errPath)?.prefix(1000) ?? "")")
    }
    return drain
  }

  /// The minimal relay: the JVM (in a clone of milo's container) writes into a pipe that `cat`
  /// copies into the FIFO. Returns the drain and `cat`'s CPU time from `wait4`.
  static func viaCat(_ direct: DirectRunner, args: [String], timeout: Duration = .seconds(900)) async throws
    -> (drain: StreamDrain, user: Double, system: Double)
  {
    guard let cat = Environment.executable(named: "cat") else { throw BenchError("cat not found") }
    let fifo = direct.root + "/stdout-\(UUID().uuidString.prefix(8)).fifo"
    guard mkfifo(fifo, 0o600) == 0 else { throw BenchError("mkfifo \(fifo): \(String(cString: strerror(errno)))") }
    defer { unlink(fifo) }
    let drain = try StreamDrain(fifo: fifo, label: "cat")
    let sink = try Descriptors.openFifoForWriting(fifo)
    let pipe = try Posix.pipe()
    let catPid: pid_t
    do {
      catPid = try Spawn.start(
        [cat], environment: Environment.list(), stdio: Spawn.Stdio(stdin: pipe.read, stdout: sink))
    } catch {
      close(sink)
      close(pipe.read)
      close(pipe.write)
      drain.interrupt()
      throw BenchError("spawn cat: \(error)")
    }
    close(sink)
    close(pipe.read)
    let errPath = direct.root + "/stderr.log"
    let err = try Descriptors.openForWriting(errPath)
    let container: DirectRunner.Container
    do {
      container = try direct.start(args: args, stdout: pipe.write, stderr: err)
    } catch {
      close(pipe.write)
      close(err)
      kill(catPid, SIGKILL)
      _ = Spawn.waitFor(catPid)
      drain.interrupt()
      throw error
    }
    close(pipe.write)
    close(err)
    let eof = await drain.waitForEOF(timeout: timeout)
    let code = await direct.finish(container)
    let usage = await Blocking.run { () -> (Double, Double) in
      var status: Int32 = 0
      var usage = rusage()
      while wait4(catPid, &status, 0, &usage) < 0 && errno == EINTR {}
      return (
        Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6,
        Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
      )
    }
    guard eof, code == 0 else {
      throw BenchError("cat run: eof \(eof), exit \(code), stderr \(Posix.readText(errPath)?.prefix(1000) ?? "")")
    }
    return (drain, usage.0, usage.1)
  }

  /// The fraction of the transfer (first to last byte) the reader spent waiting for data.
  static func idleFraction(_ drain: StreamDrain) -> Double {
    guard let first = drain.firstByteNanos, let last = drain.lastByteNanos, last > first else { return .nan }
    return Double(drain.emptyWaitNanos) / Double(last - first)
  }

  /// Throughput in MB/s (10^6 bytes) between the first and the last byte read.
  static func megabytesPerSecond(_ drain: StreamDrain) -> Double {
    guard let first = drain.firstByteNanos, let last = drain.lastByteNanos, last > first else { return .nan }
    return Double(drain.bytes) / 1e6 / (Double(last - first) / 1e9)
  }
}
