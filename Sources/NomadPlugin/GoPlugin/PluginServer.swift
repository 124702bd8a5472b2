import GRPCCore
import Logging
import MiloSys

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Serves a `NomadDriver` as a go-plugin gRPC plugin, the way Nomad expects to launch it.
///
/// It checks the magic cookie, listens on a unix socket in a private directory, prints the
/// handshake line with one unbuffered write, ignores SIGINT (the agent's Ctrl-C reaches the
/// whole process group) and exits on `GRPCController.Shutdown`, SIGTERM, or when its parent
/// (the Nomad agent) goes away. The socket directory is removed on exit, and directories left
/// by killed instances are removed at start.
public enum PluginServer {
  /// Runs the plugin until it is told to stop; returns the process exit code.
  public static func run(driver: some NomadDriver, logger: Logger) async -> Int32 {
    let environment = Environment.dictionary()
    guard environment[Handshake.magicCookieKey] == Handshake.magicCookieValue else {
      let message =
        "This binary is a plugin. These are not meant to be executed directly.\n"
        + "Please execute the program that consumes these plugins, which will\n"
        + "load any plugins automatically\n"
      _ = message.withCString { write(2, $0, strlen($0)) }
      return 1
    }
    signal(SIGINT, SIG_IGN)
    signal(SIGPIPE, SIG_IGN)

    let base = environment["PLUGIN_UNIX_SOCKET_DIR"] ?? environment["TMPDIR"] ?? "/tmp"
    let prefix = "\(driver.identity.name)-plugin-"
    SocketDirectory.removeStale(in: base, prefix: prefix)
    let directory: String
    do {
      directory = try SocketDirectory.create(in: base, prefix: prefix)
    } catch {
      logger.error("cannot create the plugin socket directory", metadata: ["error": "\(error)"])
      return 1
    }
    defer { SocketDirectory.remove(directory) }
    let socketPath = directory + "/plugin.sock"

    let shutdown = ShutdownTrigger()
    let transport = UnixSocketServerTransport(path: socketPath, logger: logger)
    let server = GRPCServer(
      transport: transport,
      services: [
        BasePluginService(driver: driver), DriverService(driver: driver),
        ControllerService(onShutdown: { shutdown.fire("GRPCController.Shutdown") }),
        BrokerService(), StdioService(), HealthService(),
      ])

    let reason: String = await withTaskGroup(of: String?.self) { group in
      group.addTask {
        do {
          try await server.serve()
          return "server stopped"
        } catch {
          return "server failed: \(error)"
        }
      }
      group.addTask {
        guard (try? await transport.listeningAddress) != nil else { return "could not listen on \(socketPath)" }
        let line = Handshake.line(network: "unix", address: socketPath)
        _ = line.withCString { write(1, $0, strlen($0)) }
        logger.debug("plugin serving", metadata: ["socket": "\(socketPath)"])
        return nil
      }
      group.addTask { await shutdown.wait() }
      group.addTask { await watchSignals(shutdown) }
      var reason = "unknown"
      while let next = await group.next() {
        if let next {
          reason = next
          break
        }
      }
      server.beginGracefulShutdown()
      group.cancelAll()
      return reason
    }
    logger.debug("plugin exiting", metadata: ["reason": "\(reason)"])
    return 0
  }

  /// Waits for SIGTERM or for the parent process to go away, then fires `shutdown`.
  private static func watchSignals(_ shutdown: ShutdownTrigger) async -> String? {
    let terminate = SignalFlag(installingFor: SIGTERM)
    let parent = getppid()
    while !Task.isCancelled {
      if terminate.take() { return "SIGTERM" }
      if getppid() != parent { return "parent process exited" }
      try? await Task.sleep(for: .milliseconds(250))
    }
    return nil
  }
}
