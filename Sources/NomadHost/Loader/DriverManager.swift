import Foundation
import Logging
import NomadProto

/// Nomad's driver instance manager (`client/pluginmanager/drivermanager/instance.go`) for one
/// driver plugin: it owns the real plugin instance (launch 3: `SetConfig` with `nomad_config`,
/// then `Init`), keeps the `Fingerprint` and `TaskEvents` streams open, re-opening them at once
/// when they end and re-dispensing a new plugin instance when the old one has exited, exactly
/// as Nomad does after a plugin crash.
public actor DriverManager {
  /// The loaded (fingerprinted and validated) plugin.
  public nonisolated let plugin: LoadedPlugin
  /// The client configuration.
  public nonisolated let config: ClientConfig
  /// Every fingerprint (and "failed to fingerprint driver" on stream errors); `latest` is the
  /// node's current view of the driver.
  public nonisolated let fingerprints = Broadcaster<DriverInfo>()
  /// Every `TaskEvents` event from any instance.
  public nonisolated let taskEvents = Broadcaster<DriverTaskEventProto>()
  /// Each newly dispensed instance.
  public nonisolated let instances = Broadcaster<PluginClient>()

  private var instance: PluginClient?
  private var dispensing: Task<PluginClient, any Error>?
  private var loops: [Task<Void, Never>] = []
  private var stopped = false
  private var reattach: (address: String, pid: Int32)?
  /// How many plugin processes were dispensed (launch 3 and relaunches).
  public private(set) var dispenseCount = 0
  /// How many times each stream was opened.
  public private(set) var fingerprintStreamOpens = 0
  public private(set) var taskEventStreamOpens = 0
  private var firstFingerprint: DriverInfo?
  /// Every `TaskEvents` event received so far, in order.
  public private(set) var receivedTaskEvents: [DriverTaskEventProto] = []

  public init(plugin: LoadedPlugin, config: ClientConfig) {
    self.plugin = plugin
    self.config = config
  }

  private var logger: Logger {
    var logger = config.logger
    logger[metadataKey: "driver"] = "\(plugin.name)"
    return logger
  }

  /// Starts the manager: dispenses the instance and starts the fingerprint and events loops.
  /// Returns the instance.
  @discardableResult
  public func start() async throws -> PluginClient {
    let client = try await dispense()
    if loops.isEmpty {
      loops.append(Task { await self.fingerprintLoop() })
      loops.append(Task { await self.eventsLoop() })
    }
    return client
  }

  /// `instanceManager.dispense`: the running instance, or a new one (`SetConfig` with
  /// `nomad_config`, then `Init`) when there is none or it has exited.
  public func dispense() async throws -> PluginClient {
    if let instance, instance.isRunning { return instance }
    if let dispensing { return try await dispensing.value }
    let task = Task { try await self.launchInstance() }
    dispensing = task
    defer { dispensing = nil }
    let client = try await task.value
    instance = client
    reattach = (client.process.handshake.address, client.pid)
    dispenseCount += 1
    instances.publish(client)
    return client
  }

  private func launchInstance() async throws -> PluginClient {
    if let reattach {
      // Nomad first tries the stored reattach config; the old process is gone.
      logger.warning(
        "failed to reattach to plugin, starting new instance",
        metadata: ["error": "Reattachment process not found", "pid": "\(reattach.pid)"])
    }
    let client: PluginClient
    do {
      client = try await PluginLoader.dispense(plugin, nomadConfig: config.nomadConfig, options: config.pluginLaunch)
    } catch {
      throw PluginLoadError("failed to start plugin: \(error)")
    }
    do {
      try await client.initDriver()
    } catch {
      await client.kill()
      throw PluginLoadError("init of plugin \(plugin.id) failed: \(error)")
    }
    return client
  }

  /// The current instance, if one has been dispensed.
  public var currentInstance: PluginClient? { instance }

  /// Waits for the first fingerprint (the client waits for it before registering the node).
  public func waitForFirstFingerprint(timeout: Duration = .seconds(60)) async -> DriverInfo? {
    if let firstFingerprint { return firstFingerprint }
    let stream = fingerprints.subscribe(replayLatest: true)
    return await withTaskGroup(of: DriverInfo?.self) { group in
      group.addTask {
        for await info in stream where info.response != nil { return info }
        return nil
      }
      group.addTask {
        try? await Task.sleep(for: timeout)
        return nil
      }
      let result = await group.next() ?? nil
      group.cancelAll()
      return result
    }
  }

  /// Kills the current plugin instance (a fault): with `graceful`, go-plugin's Kill; otherwise
  /// SIGKILL. The loops then re-dispense a new instance as Nomad does.
  public func killPlugin(graceful: Bool = false) async {
    guard let instance else { return }
    if graceful { await instance.kill() } else { await instance.sigkill() }
  }

  /// Kills the instance and dispenses a new one at once.
  @discardableResult
  public func restartPlugin(graceful: Bool = false) async throws -> PluginClient {
    await killPlugin(graceful: graceful)
    return try await dispense()
  }

  /// Agent shutdown (`instanceManager.cleanup`): `Driver.Shutdown` (2 s), then go-plugin Kill;
  /// the loops stop. Tasks keep running.
  public func shutdown() async {
    stopped = true
    for loop in loops { loop.cancel() }
    loops.removeAll()
    if let instance, instance.isRunning {
      try? await instance.shutdownDriver(timeout: .seconds(2))
      await instance.kill()
    }
    reattach = nil
    fingerprints.finish()
    taskEvents.finish()
    instances.finish()
  }

  // MARK: - Loops

  private func backoff(_ retry: Int) -> Duration {
    guard retry < 10 else { return .seconds(120) }
    return min(.seconds(5) * (1 << retry), .seconds(120))
  }

  /// Dispenses the plugin for a stream loop; on failure logs `message`, runs `failed`, waits
  /// the next backoff step and returns nil (the loop tries again).
  private func dispenseOrBackOff(
    _ retry: inout Int, _ message: Logger.Message, failed: () -> Void = {}
  ) async -> PluginClient? {
    do {
      let client = try await dispense()
      retry = 0
      return client
    } catch {
      logger.warning(message, metadata: ["error": "\(error)", "retry": "\(retry)"])
      failed()
      try? await Task.sleep(for: backoff(retry))
      retry += 1
      return nil
    }
  }

  private func fingerprintLoop() async {
    var retry = 0
    while !Task.isCancelled && !stopped {
      let failed = { self.fingerprints.publish(.fingerprintFailed()) }
      guard let client = await dispenseOrBackOff(&retry, "error fingerprinting driver", failed: failed) else {
        continue
      }
      fingerprintStreamOpens += 1
      do {
        for try await response in client.fingerprint() {
          if response.err.isEmpty {
            record(DriverInfo(response))
          } else {
            logger.warning("received fingerprint error from driver", metadata: ["error": "\(response.err)"])
            fingerprints.publish(.fingerprintFailed())
          }
        }
      } catch {
        if Task.isCancelled || stopped { return }
        logger.warning("received fingerprint error from driver", metadata: ["error": "\(error)"])
        fingerprints.publish(.fingerprintFailed())
      }
      // Nomad re-opens the stream at once; yield so a broken plugin cannot starve the host.
      await Task.yield()
    }
  }

  private func record(_ info: DriverInfo) {
    if let previous = fingerprints.latest, previous.response != nil,
      previous.response?.health != info.response?.health
    {
      logger.info(
        "driver health state has changed",
        metadata: ["current": "\(info.response?.health ?? .undetected)", "description": "\(info.healthDescription)"])
    }
    if firstFingerprint == nil { firstFingerprint = info }
    fingerprints.publish(info)
  }

  private func eventsLoop() async {
    var retry = 0
    while !Task.isCancelled && !stopped {
      guard let client = await dispenseOrBackOff(&retry, "failed to receive task events, retrying") else {
        continue
      }
      taskEventStreamOpens += 1
      do {
        for try await event in client.taskEvents() {
          receivedTaskEvents.append(event)
          taskEvents.publish(event)
        }
      } catch {
        if Task.isCancelled || stopped { return }
      }
      await Task.yield()
    }
  }
}
