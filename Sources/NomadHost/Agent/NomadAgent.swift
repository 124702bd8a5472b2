import Foundation
import Logging

/// A foreground Nomad client: loads driver plugins as Nomad does at agent start (fingerprint
/// launch, config validation launch, real instance), waits for their first fingerprint, and
/// runs jobs as allocations.
public actor NomadAgent {
  public nonisolated let config: ClientConfig
  private let specs: [PluginSpec]
  private var managers: [String: DriverManager] = [:]
  private var allocs: [String: AllocRunner] = [:]
  /// Plugins after launches 1 and 2, by name.
  public private(set) var loadedPlugins: [String: LoadedPlugin] = [:]

  public init(config: ClientConfig, plugins: [PluginSpec]) {
    self.config = config
    self.specs = plugins
  }

  /// Loads every plugin (launches 1 and 2), starts its driver manager (launch 3 with `Init` and
  /// the streams) and waits up to `fingerprintTimeout` for each first fingerprint.
  public func start(fingerprintTimeout: Duration = .seconds(60)) async throws {
    for spec in specs {
      guard let plugin = try await PluginLoader.load(spec, options: config.pluginLaunch, logger: config.logger) else {
        continue
      }
      if let previous = loadedPlugins[plugin.name], previous.version.isGreater(than: plugin.version) {
        config.logger.info(
          "multiple versions of plugin detected",
          metadata: ["plugin": "\(plugin.name)", "selected_version": "\(previous.version)"])
        continue
      }
      loadedPlugins[plugin.name] = plugin
    }
    for plugin in loadedPlugins.values where plugin.type == "driver" {
      let manager = DriverManager(plugin: plugin, config: config)
      try await manager.start()
      managers[plugin.name] = manager
    }
    for manager in managers.values {
      _ = await manager.waitForFirstFingerprint(timeout: fingerprintTimeout)
    }
  }

  /// The driver manager for a driver name.
  public func driverManager(_ name: String) -> DriverManager? { managers[name] }

  /// All driver managers by name.
  public var driverManagers: [String: DriverManager] { managers }

  /// Places and starts one allocation per task group (count 1). Placement fails like Nomad's
  /// scheduler when a task's driver is missing or not detected and healthy.
  public func submit(_ job: JobSpec, jobJSON: String? = nil) async throws -> [AllocRunner] {
    for group in job.groups {
      for task in group.tasks {
        guard let manager = managers[task.driver] else {
          throw PlacementError("Constraint \"missing drivers\": no node has driver \(goQuote(task.driver))")
        }
        let info = manager.fingerprints.latest
        guard let info, info.usable else {
          throw PlacementError(
            "Constraint \"missing drivers\": driver \(goQuote(task.driver)) is not healthy"
              + (info.map { ": \($0.healthDescription)" } ?? ""))
        }
      }
    }
    var runners: [AllocRunner] = []
    for group in job.groups {
      let runner = AllocRunner(job: job, group: group, client: config, drivers: managers, jobJSON: jobJSON)
      allocs[runner.allocID] = runner
      runners.append(runner)
    }
    return runners
  }

  /// Restores the allocations found in the data dir (after a host restart) whose run was not
  /// complete; call `run()` on each to recover and supervise their tasks.
  public func restoreAllocations() async -> [AllocRunner] {
    guard let ids = try? FileManager.default.contentsOfDirectory(atPath: config.allocRoot) else { return [] }
    var restored: [AllocRunner] = []
    for id in ids.sorted() {
      let path = "\(config.allocRoot)/\(id)"
      let store = TaskStateStore(directory: "\(path)/.nomad-host")
      let taskFiles = ((try? FileManager.default.contentsOfDirectory(atPath: store.directory)) ?? [])
        .filter { $0.hasSuffix(".task.json") }
      let tasks = taskFiles.compactMap { try? store.loadTask(String($0.dropLast(".task.json".count))) }
      guard !tasks.isEmpty, tasks.contains(where: { !$0.runComplete }) else { continue }
      guard let runner = try? await AllocRunner.restore(allocDir: path, client: config, drivers: managers) else {
        continue
      }
      allocs[runner.allocID] = runner
      restored.append(runner)
    }
    return restored
  }

  /// An allocation by ID.
  public func allocation(_ id: String) -> AllocRunner? { allocs[id] }

  /// All allocations.
  public var allocations: [AllocRunner] { Array(allocs.values) }

  /// Agent shutdown: driver managers send `Driver.Shutdown` and kill their plugins; running tasks
  /// are left running (as in Nomad's non-dev mode).
  public func shutdown() async {
    for manager in managers.values { await manager.shutdown() }
  }
}

/// The job cannot be placed on this client.
public struct PlacementError: Error, CustomStringConvertible, Sendable {
  public var description: String
  public init(_ description: String) { self.description = description }
}
