import Foundation
import Logging
import Milo
import MiloSupervisor
import MiloSys
import NomadHost
import NomadPlugin
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// What a benchmark task runs: the test application in one of its modes.
struct BenchTask: Sendable {
  var args: [String]
  var jvmOptions: [String] = ["-Xmx64m", "-Xshare:auto"]
  var memoryMB: Int64 = 256
  var cpu: Int64 = 500
  var name = "app"
}

/// One task's alloc directory, JAR and log FIFOs, ready to be started (again and again: each
/// start gets a new task ID, like a task restart in Nomad).
struct PreparedTask: Sendable {
  var task: BenchTask
  var context: TaskEnvironment.Context
  var stdoutFifo: String
  var stderrFifo: String
  /// The JAR's host path inside the task's `local/`.
  var jar: String
}

/// The milo plugin loaded through NomadHost exactly as Nomad loads it (fingerprint launch,
/// validation launch, the real instance with `SetConfig` + `Init` and its fingerprint and events
/// streams), with its own data dir and its own `state_dir` under `/run/milo-bench-*`.
///
/// Tasks are driven with the plugin client directly (`StartTask`, `WaitTask`, `StopTask`,
/// `DestroyTask`), so a benchmark can take its clock just before the `StartTask` RPC and read the
/// log FIFOs itself, as logmon would. The alloc and task directories, the `TaskConfig` and the
/// task config's msgpack are built with NomadHost's code, as its task runner builds them.
final class MiloSession: Sendable {
  let name: String
  let dataDir: String
  let stateDir: String
  let agent: NomadAgent
  let client: ClientConfig
  let driver: PluginClient
  let schema: HCLSpecProto?
  let isolation: FSIsolation
  let sourceJar: String
  private let allocs = Mutex<[AllocDir]>([])
  private let containerIDs = Mutex<[String]>([])

  private init(
    name: String, dataDir: String, stateDir: String, agent: NomadAgent, client: ClientConfig, driver: PluginClient,
    schema: HCLSpecProto?, isolation: FSIsolation, sourceJar: String
  ) {
    self.name = name
    self.dataDir = dataDir
    self.stateDir = stateDir
    self.agent = agent
    self.client = client
    self.driver = driver
    self.schema = schema
    self.isolation = isolation
    self.sourceJar = sourceJar
  }

  /// Starts an agent with milo and waits for a healthy fingerprint.
  static func start(name: String, milo: String, jar: String) async throws -> MiloSession {
    let tag = UUID().uuidString.prefix(6).lowercased()
    let dataDir = "/tmp/milo-bench-\(name)-\(tag)"
    let stateDir = "/run/milo-bench-\(name)-\(tag)"
    try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
    chmod(dataDir, 0o755)
    var logger = Logger(label: "milo-bench")
    logger.logLevel = .error
    let client = ClientConfig(dataDir: dataDir, logger: logger)
    let config: [String: MsgpackValue] = ["state_dir": .string(stateDir)]
    let agent = NomadAgent(config: client, plugins: [PluginSpec(path: milo, config: config)])
    do {
      try await agent.start(fingerprintTimeout: .seconds(30))
      guard let manager = await agent.driverManager("milo") else { throw BenchError("milo was not loaded") }
      guard let info = manager.fingerprints.latest, info.usable else {
        throw BenchError("milo is not healthy: \(manager.fingerprints.latest?.healthDescription ?? "no fingerprint")")
      }
      let driver = try await manager.dispense()
      let schema = try await driver.taskConfigSchema()
      let capabilities = try await driver.capabilities()
      let isolation = FSIsolation(capabilities.fsIsolation)
      return MiloSession(
        name: name, dataDir: dataDir, stateDir: stateDir, agent: agent, client: client, driver: driver,
        schema: schema, isolation: isolation, sourceJar: jar)
    } catch {
      await agent.shutdown()
      try? FileManager.default.removeItem(atPath: dataDir)
      try? FileManager.default.removeItem(atPath: stateDir)
      throw error
    }
  }

  /// Builds a new alloc with one task: alloc and task dirs (Nomad's layout for the driver's
  /// isolation, tmpfs secrets), the JAR in `local/` (the artifact hook)
  /// and the two log FIFOs (logmon's `mkfifo`).
  func prepare(_ task: BenchTask) throws -> PreparedTask {
    let allocID = UUID().uuidString.lowercased()
    let allocDir = AllocDir(allocRoot: client.allocRoot, allocID: allocID)
    allocs.withLock { $0.append(allocDir) }
    try allocDir.build()
    try allocDir.buildTaskDir(
      task.name, isolation: isolation, chroot: client.effectiveChrootEnv, mountTmpfs: client.mountTmpfs,
      bindMount: client.bindMountAllocDir)
    let jar = try ArtifactFetcher.fetch(ArtifactSpec(source: sourceJar), taskDir: allocDir.taskDir(task.name).dir)
    let logs = LogMonConfig(logDir: allocDir.logDir, task: task.name)
    for fifo in [logs.stdoutFifo, logs.stderrFifo] {
      guard mkfifo(fifo, 0o600) == 0 || errno == EEXIST else {
        throw BenchError("mkfifo \(fifo): \(String(cString: strerror(errno)))")
      }
    }
    let config: [String: MsgpackValue] = [
      "jvm_options": .array(task.jvmOptions.map(MsgpackValue.string)),
      "args": .array(task.args.map(MsgpackValue.string)),
    ]
    let spec = TaskSpec(
      name: task.name, driver: "milo", config: config, resources: ResourcesSpec(cpu: task.cpu, memoryMB: task.memoryMB))
    let group = GroupSpec(name: "bench", tasks: [spec])
    let job = JobSpec(id: "milo-bench-\(name)-\(allocID.prefix(6))", groups: [group])
    let context = TaskEnvironment.Context(
      job: job, group: group, task: spec, allocID: allocID, allocDir: allocDir, isolation: isolation)
    return PreparedTask(
      task: task, context: context, stdoutFifo: logs.stdoutFifo, stderrFifo: logs.stderrFifo, jar: jar)
  }

  /// A `TaskConfig` for one start of `prepared` (a fresh task ID), built as Nomad's task runner
  /// builds it: environment, resources, log paths, and the task config as go-cty msgpack.
  func taskConfig(_ prepared: PreparedTask) throws -> TaskConfigProto {
    let environment = TaskEnvironment.build(prepared.context, client: client)
    let msgpack: [UInt8]
    do {
      msgpack = try ConfigEncoder.encodeTaskConfig(
        prepared.context.task.config, spec: schema, variables: environment.variables)
    } catch {
      throw BenchError("task config: \(error)")
    }
    let inputs = TaskConfigBuilder.Inputs(
      context: prepared.context, environment: environment.env, stdoutPath: prepared.stdoutFifo,
      stderrPath: prepared.stderrFifo, networkIsolation: nil, msgpackDriverConfig: msgpack)
    let config = TaskConfigBuilder.build(inputs, client: client)
    containerIDs.withLock { $0.append(Self.containerID(for: config.id)) }
    return config
  }

  /// `WaitTask`: the exit code (or the error text).
  func wait(_ taskID: String) async throws -> (exitCode: Int, error: String?) {
    let response = try await driver.waitTask(taskID: taskID)
    return (Int(response.result.exitCode), response.err.isEmpty ? nil : response.err)
  }

  /// `StopTask` (the driver's default signal, 5 s grace) then `DestroyTask(force)`.
  func stopAndDestroy(_ taskID: String) async {
    try? await driver.stopTask(taskID: taskID, timeout: .seconds(5), signal: "")
    _ = try? await driver.waitTask(taskID: taskID)
    try? await driver.destroyTask(taskID: taskID, force: true)
  }

  /// `DestroyTask(force)`.
  func destroy(_ taskID: String) async {
    try? await driver.destroyTask(taskID: taskID, force: true)
  }

  /// milo's container ID for a task ID.
  static func containerID(for taskID: String) -> String { LaunchPlanner.containerID(for: taskID) }

  /// The bundle directory milo wrote for a running task.
  func bundleDir(taskID: String) -> String {
    stateDir + "/tasks/" + Self.containerID(for: taskID) + "/bundle"
  }

  /// The supervisor of a running task.
  func supervisorPid(taskID: String) -> Int32? {
    let id = Self.containerID(for: taskID)
    return Proc.commandLines().first { _, args in
      args.count > 2 && args[1] == "supervise" && args.contains(id)
    }?.key
  }

  /// The plugin's pid.
  var pluginPid: Int32 { driver.pid }

  /// Mount points (in this mount namespace) at or below any of `roots`, deepest first.
  static func mountPoints(under roots: [String]) -> [String] {
    let points = (Posix.readText("/proc/self/mountinfo") ?? "").split(separator: "\n").compactMap { line -> String? in
      let fields = line.split(separator: " ")
      guard fields.count > 4 else { return nil }
      let point = String(fields[4]).replacingOccurrences(of: "\\040", with: " ")
      return roots.contains { point == $0 || point.hasPrefix($0 + "/") } ? point : nil
    }
    return points.sorted { $0.count > $1.count }
  }

  /// Destroys the allocs, shuts the agent down (plugin killed) and checks what milo left behind;
  /// returns a description of any residue (empty when clean). The state and data dirs are
  /// removed either way.
  func shutdown() async -> [String] {
    for allocDir in allocs.withLock({ $0 }) { allocDir.destroy() }
    await agent.shutdown()
    if !Self.mountPoints(under: [dataDir]).isEmpty {
      // Give exiting container processes a moment, then let AllocDir try again.
      try? await Task.sleep(for: .milliseconds(500))
      for allocDir in allocs.withLock({ $0 }) { allocDir.destroy() }
    }
    var residue: [String] = []
    let runtimeRoot = stateDir + "/runtime"
    let leftover = ((try? FileManager.default.contentsOfDirectory(atPath: runtimeRoot)) ?? []).filter {
      !$0.hasPrefix(".")
    }
    for container in leftover {
      residue.append("container \(container)")
      if let crun = Environment.executable(named: "crun") {
        _ = try? RuntimeCommand(path: crun, root: runtimeRoot).delete(containerID: container)
      }
    }
    for pid in Proc.supervisors(stateDir: stateDir) {
      residue.append("supervisor pid \(pid)")
      kill(pid, SIGKILL)
    }
    let hierarchies = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []
    for id in containerIDs.withLock({ $0 }) {
      for hierarchy in hierarchies
      where FileManager.default.fileExists(atPath: "/sys/fs/cgroup/\(hierarchy)/milo/\(id)") {
        residue.append("cgroup \(hierarchy)/milo/\(id)")
        rmdir("/sys/fs/cgroup/\(hierarchy)/milo/\(id)")
      }
    }
    // Mounts AllocDir.destroy() did not remove: unmount them (deepest first), saying why the
    // first attempt failed, so nothing stays mounted on the host.
    for point in Self.mountPoints(under: [stateDir, dataDir]) {
      if umount2(point, 0) == 0 {
        residue.append("mount \(point) (still mounted after the alloc was destroyed; unmounted)")
      } else {
        let reason = String(cString: strerror(errno))
        umount2(point, Int32(MNT_DETACH))
        residue.append("mount \(point) (umount: \(reason); detached)")
      }
    }
    try? FileManager.default.removeItem(atPath: stateDir)
    try? FileManager.default.removeItem(atPath: dataDir)
    return residue
  }
}

/// Runs one task through milo while logmon-like drains read its FIFOs.
struct MiloRun: Sendable {
  var taskID: String
  /// Monotonic time just before the `StartTask` RPC.
  var startedAt: UInt64
  /// Monotonic time when `StartTask` returned.
  var rpcReturnedAt: UInt64
  var stdout: StreamDrain
  var stderr: StreamDrain

  /// Opens the drains (blocked in `open` until the supervisor connects), then calls `StartTask`.
  static func start(
    _ session: MiloSession, _ prepared: PreparedTask, options: StreamDrain.Options = StreamDrain.Options()
  ) async throws -> MiloRun {
    let config = try session.taskConfig(prepared)
    let stdout = try StreamDrain(fifo: prepared.stdoutFifo, label: "stdout", options: options)
    let stderr = try StreamDrain(
      fifo: prepared.stderrFifo, label: "stderr", options: StreamDrain.Options(keepHead: 64 << 10))
    let startedAt = Clock.mono()
    do {
      _ = try await session.driver.startTask(config)
    } catch {
      stdout.interrupt()
      stderr.interrupt()
      throw BenchError("StartTask: \(error)")
    }
    let returned = Clock.mono()
    return MiloRun(taskID: config.id, startedAt: startedAt, rpcReturnedAt: returned, stdout: stdout, stderr: stderr)
  }

  /// Waits for the task to exit and both FIFOs to reach EOF, then destroys the task. Throws when
  /// the task failed.
  func finish(_ session: MiloSession, timeout: Duration = .seconds(600)) async throws {
    let waiter = Task { try await session.wait(taskID) }
    let exited = await stdout.waitForEOF(timeout: timeout)
    _ = await stderr.waitForEOF(timeout: .seconds(10))
    if !exited { await session.destroy(taskID) }
    let exit = try? await waiter.value
    await session.destroy(taskID)
    guard exited else { throw BenchError("the task's stdout did not reach EOF within \(timeout)") }
    if let exit, exit.exitCode != 0 || exit.error != nil {
      throw BenchError(
        "the task exited with \(exit.exitCode) \(exit.error ?? ""); stderr: \(stderr.headText.prefix(2000))")
    }
  }
}
