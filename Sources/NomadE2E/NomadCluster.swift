import Foundation

/// A real Nomad server and a separate client agent on loopback, with milo in the client's
/// `plugin_dir`: the setup the end-to-end suite and the Nomad benchmarks drive.
///
/// The client is its own process so it can be restarted while tasks keep running, as an
/// operator's upgrade does. Every config denies the cloud fingerprinters, so nothing leaves
/// loopback.
public final class NomadCluster: @unchecked Sendable {
  public let root: String
  public let nomad: String
  public let stateDir: String
  public let api = NomadAPI(address: "http://127.0.0.1:4646")
  public private(set) var server: AgentProcess?
  public private(set) var client: AgentProcess?
  public private(set) var nodeID = ""

  public var pluginDir: String { root + "/plugins" }
  public var pluginPath: String { pluginDir + "/milo" }
  /// The client's host volume `milo-data` (a directory every task user may write).
  public var dataVolumePath: String { root + "/volumes/data" }

  /// Prepares `root` (made fresh) with milo copied from `milo` (and the `milo.d` helper directory
  /// beside it, when there is one); starts nothing yet.
  public init(root: String, nomad: String, milo: String, stateDir: String = "/run/milo-e2e") throws {
    self.root = root
    self.nomad = nomad
    self.stateDir = stateDir
    let fm = FileManager.default
    // A killed client leaves its allocations' secrets tmpfs mounted under its data dir.
    for mount in HostResidue.mountPoints(under: root).reversed() { umount2(mount, Int32(MNT_DETACH)) }
    try? fm.removeItem(atPath: root)
    try fm.createDirectory(atPath: pluginDir, withIntermediateDirectories: true)
    try? fm.removeItem(atPath: pluginPath)
    try fm.copyItem(atPath: milo, toPath: pluginPath)
    chmod(pluginPath, 0o755)
    // The release archive's per-task helper, `milo.d/milo-task`, installed beside the plugin.
    let helperDir = (milo as NSString).deletingLastPathComponent + "/milo.d"
    if fm.fileExists(atPath: helperDir) {
      try fm.copyItem(atPath: helperDir, toPath: pluginDir + "/milo.d")
      chmod(pluginDir + "/milo.d", 0o755)
    }
    chmod(root, 0o755)
    try fm.createDirectory(atPath: dataVolumePath, withIntermediateDirectories: true)
    chmod(root + "/volumes", 0o755)
    chmod(dataVolumePath, 0o1777)
    try serverConfig.write(toFile: root + "/server.hcl", atomically: true, encoding: .utf8)
    try clientConfig.write(toFile: root + "/client.hcl", atomically: true, encoding: .utf8)
  }

  private var serverConfig: String {
    """
    data_dir = "\(root)/server"
    bind_addr = "127.0.0.1"
    disable_update_check = true
    log_level = "INFO"
    advertise {
      http = "127.0.0.1"
      rpc = "127.0.0.1"
      serf = "127.0.0.1"
    }
    server {
      enabled = true
      bootstrap_expect = 1
    }
    client {
      enabled = false
    }

    """
  }

  private var clientConfig: String {
    """
    data_dir = "\(root)/client"
    plugin_dir = "\(pluginDir)"
    bind_addr = "127.0.0.1"
    disable_update_check = true
    log_level = "DEBUG"
    advertise {
      http = "127.0.0.1"
      rpc = "127.0.0.1"
      serf = "127.0.0.1"
    }
    ports {
      http = 5656
      rpc = 5657
      serf = 5658
    }
    server {
      enabled = false
    }
    client {
      enabled = true
      servers = ["127.0.0.1:4647"]
      network_interface = "lo"
      gc_max_allocs = 500
      options = {
        "fingerprint.denylist" = "env_aws,env_gce,env_azure,env_digitalocean"
      }
      host_volume "milo-data" {
        path = "\(dataVolumePath)"
      }
    }
    plugin "milo" {
      config {
        state_dir = "\(stateDir)"
      }
    }
    plugin "raw_exec" {
      config {
        enabled = true
      }
    }

    """
  }

  /// Starts the server, then the client, and waits until the node is ready with a healthy milo.
  public func start() async throws {
    server = try AgentProcess(
      name: "server", nomad: nomad, configPath: root + "/server.hcl",
      logPath: root + "/server.log")
    try await waitFor("a server leader", timeout: 60) {
      try self.server?.checkRunning()
      let leader = try? await self.api.json("/v1/status/leader") as? String
      return !(leader ?? "").isEmpty
    }
    try await startClient()
  }

  /// Starts the client agent on its data dir and waits until milo is healthy on the node.
  public func startClient() async throws {
    client = try AgentProcess(
      name: "client", nomad: nomad, configPath: root + "/client.hcl",
      logPath: root + "/client.log")
    try await waitFor("the node to be ready with a healthy milo driver", timeout: 90) {
      try self.client?.checkRunning()
      guard let nodes = try? await self.api.json("/v1/nodes") as? [[String: Any]],
        let node = nodes.first, node["Status"] as? String == "ready",
        let id = node["ID"] as? String,
        let detail = try? await self.api.json("/v1/node/\(id)") as? [String: Any],
        let drivers = detail["Drivers"] as? [String: [String: Any]],
        drivers["milo"]?["Healthy"] as? Bool == true
      else { return false }
      self.nodeID = id
      return true
    }
  }

  /// Stops the client agent gracefully (SIGINT) and starts it again on the same data dir.
  public func restartClient() async throws {
    await client?.stop()
    try await startClient()
  }

  /// Purges every job, waits for their allocations to stop, then stops client and server.
  public func stop() async {
    if let jobs = try? await api.json("/v1/jobs") as? [[String: Any]] {
      for job in jobs.compactMap({ $0["ID"] as? String }) {
        try? await stopJob(job, timeout: 60)
        try? await api.purge(job: job)
      }
    }
    await client?.stop()
    await server?.stop()
  }

  /// Runs `nomad <arguments>` against the server's HTTP API.
  public func cli(_ arguments: [String], timeout: Double = 120) async throws -> CommandResult {
    try await Command.run(
      [nomad] + arguments, environment: ["NOMAD_ADDR": api.address], timeout: timeout)
  }

  /// Submits `job` with `nomad job run -detach`.
  public func run(_ job: JobSpec) async throws {
    let path = root + "/\(job.name).nomad.hcl"
    try job.hcl.write(toFile: path, atomically: true, encoding: .utf8)
    let result = try await cli(["job", "run", "-detach", path])
    guard result.status == 0 else {
      throw CommandError(command: ["nomad", "job", "run", path], result: result, reason: "failed")
    }
  }

  /// `nomad job stop` and waits until no allocation of `job` is still running or pending.
  public func stopJob(_ job: String, timeout: Double = 30) async throws {
    _ = try await cli(["job", "stop", "-detach", job])
    try await waitFor("every allocation of \(job) to stop", timeout: timeout) {
      let allocs = (try? await self.api.allocations(job: job)) ?? []
      return allocs.allSatisfy { !["pending", "running"].contains($0.clientStatus) }
    }
  }

  /// Waits for the first allocation of `job` to exist and returns its ID.
  public func firstAllocation(of job: String, timeout: Double = 30) async throws -> String {
    var id = ""
    try await waitFor("an allocation of \(job)", timeout: timeout) {
      id = (try? await self.api.allocations(job: job))?.first?.id ?? ""
      return !id.isEmpty
    }
    return id
  }

  /// The PIDs of the running milo plugin (the binary in `plugin_dir`, not its supervisors).
  public func pluginPIDs() -> [Int32] {
    ProcessTable.pids { args in args.count == 1 && args[0] == self.pluginPath }
  }

  /// The agents' logs, for failure messages.
  public func diagnostics() -> String {
    "--- client log ---\n\(client?.logTail() ?? "")\n--- server log ---\n\(server?.logTail(bytes: 2000) ?? "")"
  }
}

/// Polls `condition` every 100 ms until it holds; throws after `timeout` seconds.
public func waitFor(
  _ what: String, timeout: Double, every interval: Duration = .milliseconds(100),
  _ condition: () async throws -> Bool
) async throws {
  let deadline = ContinuousClock.now + .seconds(timeout)
  while ContinuousClock.now < deadline {
    if try await condition() { return }
    try await Task.sleep(for: interval)
  }
  throw TimeoutError(what: what, seconds: timeout)
}

/// A condition did not hold in time.
public struct TimeoutError: Error, CustomStringConvertible {
  public var what: String
  public var seconds: Double
  public var description: String { "timed out after \(seconds) s waiting for \(what)" }

  public init(what: String, seconds: Double) {
    self.what = what
    self.seconds = seconds
  }
}
