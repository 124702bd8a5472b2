import Foundation
import Logging
import NomadProto

/// A task event tagged with its task.
public struct AllocTaskEvent: Sendable {
  public var task: String
  public var event: TaskEvent
}

/// Runs one allocation of a task group (Nomad's alloc runner, reduced): builds the alloc dir,
/// creates the bridge network namespace, runs every task's `TaskRunner` concurrently, kills the
/// siblings of a failed task, and stops everything on `stop()` like `nomad job stop`.
public actor AllocRunner {
  public nonisolated let allocID: String
  public nonisolated let job: JobSpec
  public nonisolated let group: GroupSpec
  public nonisolated let allocDir: AllocDir
  public nonisolated let client: ClientConfig
  /// Events of all tasks.
  public nonisolated let events = Broadcaster<AllocTaskEvent>()

  private let drivers: [String: DriverManager]
  private let jobJSON: String?
  private var runners: [String: TaskRunner] = [:]
  private var networkPath: String?
  private var started = false
  private var restoring: [String: PersistedTask] = [:]
  private let finished = Latch<[String: TaskState]>()
  private var forwarders: [Task<Void, Never>] = []

  /// A new allocation (a random alloc ID unless given).
  public init(
    job: JobSpec, group: GroupSpec, client: ClientConfig, drivers: [String: DriverManager],
    allocID: String = UUID().uuidString.lowercased(), jobJSON: String? = nil
  ) {
    self.job = job
    self.group = group
    self.client = client
    self.drivers = drivers
    self.allocID = allocID
    self.jobJSON = jobJSON
    self.allocDir = AllocDir(allocRoot: client.allocRoot, allocID: allocID)
  }

  /// Restores an allocation from its directory (written by an earlier host process): the job is
  /// rebuilt from the stored job file and each task's handle is recovered with `RecoverTask`.
  public static func restore(allocDir path: String, client: ClientConfig, drivers: [String: DriverManager]) async throws
    -> AllocRunner
  {
    let store = TaskStateStore(directory: "\(path)/.nomad-host")
    let record = try store.loadAlloc()
    guard let text = record.jobJSON else { throw JobFileError("the alloc has no stored job") }
    let job = try JobFile.parse(text)
    guard let group = job.groups.first(where: { $0.name == record.groupName }) else {
      throw JobFileError("group \(goQuote(record.groupName)) not in the stored job")
    }
    var config = client
    config.dataDir = URL(fileURLWithPath: path).deletingLastPathComponent().deletingLastPathComponent().path
    let runner = AllocRunner(
      job: job, group: group, client: config, drivers: drivers, allocID: record.allocID, jobJSON: text)
    var persisted: [String: PersistedTask] = [:]
    for task in group.tasks {
      if let state = try? store.loadTask(task.name) { persisted[task.name] = state }
    }
    await runner.setRestoring(persisted, network: record.networkNamespace)
    return runner
  }

  private func setRestoring(_ persisted: [String: PersistedTask], network: String?) {
    restoring = persisted
    networkPath = network
  }

  /// The task runner of `task` (after `run()` has created them).
  public func runner(for task: String) -> TaskRunner? { runners[task] }

  /// All task runners by name.
  public var taskRunners: [String: TaskRunner] { runners }

  /// The network namespace path (bridge mode).
  public var networkNamespacePath: String? { networkPath }

  /// Runs the allocation until every task is dead; returns the final task states.
  @discardableResult
  public func run() async -> [String: TaskState] {
    guard !started else { return await finished.wait() ?? [:] }
    started = true
    var setupError: String?
    do {
      try allocDir.build()
    } catch {
      setupError = "failed to build alloc dir: \(error)"
    }
    var isolation: NetworkIsolationSpecProto?
    if setupError == nil && group.networkMode != .host {
      do {
        try await checkNetworkSupport()
        let path = try networkPath ?? NetworkNamespace.create(allocID: allocID)
        networkPath = path
        isolation = TaskConfigBuilder.groupNetworkIsolation(path: path)
      } catch {
        setupError = "\(error)"
      }
    }
    try? TaskStateStore(allocDir: allocDir).save(
      PersistedAlloc(
        allocID: allocID, jobID: job.id, groupName: group.name, jobJSON: jobJSON, networkNamespace: networkPath))

    for task in group.tasks {
      guard let manager = drivers[task.driver] else {
        setupError = setupError ?? "missing drivers: \(task.driver)"
        continue
      }
      let context = TaskEnvironment.Context(
        job: job, group: group, task: task, allocID: allocID, allocDir: allocDir, isolation: .none,
        reservedCores: Array(0..<task.resources.cores))
      let runner = TaskRunner(
        context: context, client: client, driverManager: manager, networkIsolation: isolation,
        restoring: restoring[task.name])
      runners[task.name] = runner
      let stream = runner.events.subscribe(replayLatest: false)
      let name = task.name
      let sink = events
      forwarders.append(Task { for await event in stream { sink.publish(AllocTaskEvent(task: name, event: event)) } })
    }

    if let setupError {
      // Nomad marks every task failed with a Setup Failure when the alloc cannot be set up.
      var states: [String: TaskState] = [:]
      for (name, runner) in runners {
        await runner.appendEvent(.setupFailure("failed to setup alloc: \(setupError)"))
        states[name] = await runner.kill()
      }
      for task in group.tasks where runners[task.name] == nil {
        var state = TaskState()
        state.state = .dead
        state.failed = true
        state.events = [.received(), .setupFailure("failed to setup alloc: \(setupError)")]
        states[task.name] = state
        events.publish(AllocTaskEvent(task: task.name, event: .setupFailure("failed to setup alloc: \(setupError)")))
      }
      return await complete(states)
    }

    let all = runners
    let states = await withTaskGroup(of: (String, TaskState).self) { taskGroup in
      for (name, runner) in all {
        taskGroup.addTask { (name, await runner.run()) }
      }
      var states: [String: TaskState] = [:]
      var siblingsKilled = false
      for await (name, state) in taskGroup {
        states[name] = state
        if state.failed && !siblingsKilled {
          siblingsKilled = true
          for (other, runner) in all where other != name {
            let failed = name
            Task { await runner.killAsSibling(of: failed) }
          }
        }
      }
      return states
    }
    return await complete(states)
  }

  private func complete(_ states: [String: TaskState]) async -> [String: TaskState] {
    // Give forwarders a moment to deliver the last events.
    try? await Task.sleep(for: .milliseconds(50))
    for forwarder in forwarders { forwarder.cancel() }
    events.finish()
    finished.fulfil(states)
    return states
  }

  /// Waits until `run()` has finished.
  public nonisolated func waitUntilDone() async -> [String: TaskState] {
    await finished.wait() ?? [:]
  }

  /// `nomad job stop`: kills every task (each gets `Killing` unless already finished) and waits.
  @discardableResult
  public func stop() async -> [String: TaskState] {
    let all = runners
    await withTaskGroup(of: Void.self) { group in
      for runner in all.values { group.addTask { _ = await runner.kill() } }
    }
    return await waitUntilDone()
  }

  /// Unmounts the alloc's mounts and deletes its network namespace (what Nomad does when it
  /// garbage-collects the alloc); with `removeFiles` the directory is deleted too.
  public func destroy(removeFiles: Bool = false) async {
    // Nomad stops handing driver events to the alloc's tasks once it is collected.
    for runner in runners.values { await runner.allocDestroyed() }
    if removeFiles { allocDir.destroy() } else { allocDir.unmountAll() }
    if networkPath != nil {
      NetworkNamespace.destroy(allocID: allocID)
      networkPath = nil
    }
  }

  /// Bridge mode requires every task's driver to support group network isolation
  /// (`newNetworkManager`).
  private func checkNetworkSupport() async throws {
    for task in group.tasks {
      guard let manager = drivers[task.driver] else { continue }
      let capabilities = try await manager.dispense().capabilities()
      if !capabilities.networkIsolationModes.contains(.group) {
        throw NetworkSetupError(
          "failed to configure network manager: task \(task.name) does not support \(goQuote(group.networkMode.rawValue)) networking mode"
        )
      }
    }
  }
}

extension TaskRunner {
  /// Kills the task because a sibling failed (`Sibling Task Failed` instead of `Killing`).
  func killAsSibling(of sibling: String) async {
    await kill(event: taskState.finishedAt == nil ? .siblingFailed(sibling) : nil)
  }
}

extension AllocRunner {
  /// Waits until `run()` has created the runner of `task` (nil after `timeout`).
  public func taskRunner(named task: String, timeout: Duration = .seconds(30)) async -> TaskRunner? {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
      if let runner = runner(for: task) { return runner }
      try? await Task.sleep(for: .milliseconds(20))
    }
    return runner(for: task)
  }
}
