import Foundation
import Logging
import MiloSupervisor
import NomadHost
import NomadPlugin
import Synchronization
import Testing

/// A NomadHost agent with the real milo plugin loaded, isolated per test: its own data dir and
/// its own milo `state_dir`, so leftovers can be checked precisely.
final class MiloHarness: Sendable {
  let dataDir: String
  let stateDir: String
  let agent: NomadAgent
  /// Every allocation this harness placed, to stop and destroy them at the end and to
  /// attribute host leftovers to it.
  private let placed = Mutex<[AllocRunner]>([])

  private init(dataDir: String, stateDir: String, agent: NomadAgent) {
    self.dataDir = dataDir
    self.stateDir = stateDir
    self.agent = agent
  }

  /// Starts an agent with milo (Nomad's three plugin launches) and waits for its fingerprint.
  /// Tests use `withMiloHarness`, which always tears the harness down.
  fileprivate static func start(
    _ name: String, pluginConfig: [String: MsgpackValue] = [:], binary: String = Fixtures.miloBinary
  ) async throws -> MiloHarness {
    let dataDir = Fixtures.temporaryDirectory("data-\(name)")
    let stateDir = "/run/milo-it-\(name)-\(UUID().uuidString.prefix(6))"
    var config = pluginConfig
    if config["state_dir"] == nil { config["state_dir"] = .string(stateDir) }
    var logger = Logger(label: "nomad-host")
    logger.logLevel = .warning
    let client = ClientConfig(dataDir: dataDir, logger: logger)
    let agent = NomadAgent(config: client, plugins: [PluginSpec(path: binary, config: config)])
    try await agent.start(fingerprintTimeout: .seconds(30))
    return MiloHarness(dataDir: dataDir, stateDir: config["state_dir"]?.stringValue ?? stateDir, agent: agent)
  }

  /// The driver manager for milo (plugin instance, fingerprints, task events).
  var driver: DriverManager {
    get async throws {
      guard let manager = await agent.driverManager("milo") else { throw HarnessError("milo was not loaded") }
      return manager
    }
  }

  /// A task spec running the test application with `args` (the first selects its mode).
  static func testAppTask(
    _ args: [String], name: String = "java-app", jvmOptions: [String] = ["-Xmx64m", "-Xshare:auto"],
    extraConfig: [String: MsgpackValue] = [:], resources: ResourcesSpec = ResourcesSpec(cpu: 500, memoryMB: 256),
    killTimeout: Duration = .seconds(5), killSignal: String = "", user: String = "",
    logs: LogConfigSpec = LogConfigSpec(), artifact: String = Fixtures.testAppJar
  ) -> TaskSpec {
    var config: [String: MsgpackValue] = [
      "jvm_options": .array(jvmOptions.map(MsgpackValue.string)), "args": .array(args.map(MsgpackValue.string)),
    ]
    config.merge(extraConfig) { _, new in new }
    return TaskSpec(
      name: name, driver: "milo", user: user, config: config,
      artifacts: artifact.isEmpty ? [] : [ArtifactSpec(source: artifact)], resources: resources,
      killTimeout: killTimeout, killSignal: killSignal, logs: logs,
      restartPolicy: RestartPolicySpec(attempts: 0, interval: .seconds(1800), delay: .seconds(15), mode: .fail))
  }

  /// Submits a one-task job and starts running it; returns the alloc and the task's runner.
  func run(
    _ task: TaskSpec, type: JobSpec.JobType = .service, network: GroupSpec.NetworkMode = .host
  ) async throws -> (AllocRunner, TaskRunner) {
    let job = JobSpec(
      id: "job-\(UUID().uuidString.prefix(6))", type: type,
      groups: [GroupSpec(name: "app", networkMode: network, tasks: [task])])
    guard let alloc = try await agent.submit(job).first else { throw HarnessError("no allocation was placed") }
    adopt(alloc)
    Task { _ = await alloc.run() }
    guard let runner = await alloc.taskRunner(named: task.name) else {
      throw HarnessError("the task runner for \(task.name) did not appear")
    }
    return (alloc, runner)
  }

  /// Reads a task's whole log (all rotated files) as bytes.
  func logs(_ alloc: AllocRunner, task: String = "java-app", type: LogType = .stdout) async throws -> [UInt8] {
    let request = LogStreamRequest(
      logDir: alloc.allocDir.logDir, task: task, type: type, origin: .start, offset: 0, follow: false)
    var bytes: [UInt8] = []
    for try await chunk in AllocLogReader.bytes(request) { bytes += chunk }
    return bytes
  }

  /// Waits until the task's log contains `text` (polling the rotated files).
  func waitForLog(
    _ alloc: AllocRunner, containing text: String, task: String = "java-app", type: LogType = .stdout,
    timeout: Duration = .seconds(30)
  ) async throws -> String {
    let deadline = ContinuousClock.now + timeout
    while true {
      // Until logmon writes the first byte there is no log file, and the reader says so.
      let bytes = (try? await logs(alloc, task: task, type: type)) ?? []
      let current = String(decoding: bytes, as: UTF8.self)
      if current.contains(text) || ContinuousClock.now >= deadline { return current }
      try await Task.sleep(for: .milliseconds(50))
    }
  }

  /// Remembers an allocation placed without `run` (a job of several tasks), for the teardown.
  func adopt(_ alloc: AllocRunner) {
    placed.withLock { $0.append(alloc) }
  }

  /// Every allocation this harness placed.
  var allocs: [AllocRunner] { placed.withLock { $0 } }

  /// What milo left on the host for this harness's tasks.
  func residue() -> HostResidue {
    HostResidue.scan(stateDir: stateDir, allocIDs: allocs.map(\.allocID))
  }

  /// Stops and destroys every allocation, shuts the agent down (plugin shutdown), expects that
  /// milo left nothing on the host (allowing crun a moment for its last cleanup) and removes
  /// the directories.
  fileprivate func tearDown() async {
    for alloc in allocs {
      await alloc.stop()
      await alloc.destroy(removeFiles: true)
    }
    await agent.shutdown()
    var residue = residue()
    let deadline = ContinuousClock.now + .seconds(5)
    while !residue.isEmpty && ContinuousClock.now < deadline {
      try? await Task.sleep(for: .milliseconds(50))
      residue = self.residue()
    }
    #expect(residue.isEmpty, "milo left residue: \(residue)")
    try? FileManager.default.removeItem(atPath: dataDir)
    try? FileManager.default.removeItem(atPath: stateDir)
  }
}

/// Runs `body` with a fresh harness (a NomadHost agent with the real milo plugin) and always
/// tears it down afterwards, also when `body` throws: every allocation it placed is stopped and
/// destroyed, the agent shuts down, the host must hold nothing of milo's, and the directories
/// are removed.
func withMiloHarness<Result>(
  _ name: String, pluginConfig: [String: MsgpackValue] = [:], binary: String = Fixtures.miloBinary,
  _ body: (MiloHarness) async throws -> Result
) async throws -> Result {
  let harness = try await MiloHarness.start(name, pluginConfig: pluginConfig, binary: binary)
  let result: Swift.Result<Result, any Error>
  do {
    result = .success(try await body(harness))
  } catch {
    result = .failure(error)
  }
  await harness.tearDown()
  return try result.get()
}

struct HarnessError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

extension NomadHost.TaskState {
  /// A short summary for failure messages.
  var summary: String {
    "state=\(state) failed=\(failed) events=\(events.map { "\($0.type): \($0.displayMessage)" })"
  }
}
