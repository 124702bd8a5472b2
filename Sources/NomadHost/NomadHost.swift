/// NomadHost: a Nomad client emulator for task driver plugins.
///
/// It launches and drives a plugin exactly as a Nomad agent does, so a driver can be developed
/// and tested without Nomad:
///
/// - `PluginProcess` / `PluginClient`: go-plugin's client (environment, handshake line, stderr
///   handling, gRPC over the unix socket, broker and stdio streams, `Kill`), with typed async
///   calls for every BasePlugin and Driver RPC.
/// - `PluginLoader` / `DriverManager`: the three launches at agent start (fingerprint,
///   config validation, the real instance with `nomad_config` and `Init`), the Fingerprint and
///   TaskEvents streams (re-opened and re-dispensed as Nomad does), plugin restarts.
/// - `ConfigEncoder`: hclspec parsing of job and agent configs into go-cty msgpack.
/// - `TaskRunner` / `AllocRunner` / `NomadAgent`: alloc dirs, task environment, `TaskConfig`,
///   start/wait/stop/destroy, restart policy, recovery after plugin crashes and agent restarts,
///   and Nomad's task events and states.
/// - `LogMon` / `FileRotator` / `AllocLogReader`: logmon's FIFO readers and rotator, and
///   `nomad alloc logs`.
///
/// Typical use:
///
///     var config = ClientConfig(dataDir: "/tmp/nomad-host")
///     let agent = NomadAgent(config: config, plugins: [PluginSpec(path: ".build/debug/milo")])
///     try await agent.start()
///     let alloc = try await agent.submit(try JobFile.load(path: "job.json"))[0]
///     let run = Task { await alloc.run() }
///     let runner = await alloc.taskRunner(named: "app")
///     _ = await runner?.waitForEvent(TaskEvent.Kind.started)
///     let states = await alloc.stop()   // like `nomad job stop`
///     await agent.shutdown()
///
/// Known differences from Nomad: no servers or scheduler (one alloc per group, index 0,
/// immediate placement); task directories, their environment paths and the host environment
/// passthrough follow Nomad v1.1.2 (the `task_dir` hook, with the chroot_env copy); bridge networking creates only the network namespace (loopback up, no CNI);
/// artifacts are local files copied into the task dir; `${...}` in configs supports variable
/// references only; logmon runs in-process (its `kill()` emulates a SIGKILLed logmon); after a
/// failed restore the task is started again at once instead of waiting for servers.
public enum NomadHostModule {
  /// The Nomad version whose client behaviour NomadHost follows.
  public static let nomadReference = "hashicorp/nomad main (2.0.x), go-plugin v1.8.0"
}
