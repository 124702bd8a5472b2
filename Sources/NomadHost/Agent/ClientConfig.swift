import Foundation
import Logging
import NomadProto

/// The emulated Nomad client's configuration (the parts of an agent's `client {}` block and
/// node identity that matter to drivers and task runners).
public struct ClientConfig: Sendable {
  /// `data_dir`; allocations live in `<dataDir>/alloc/<allocID>`.
  public var dataDir: String
  /// `client_min_port` (default 14000).
  public var clientMinPort: UInt32 = 14000
  /// `client_max_port` (default 14512).
  public var clientMaxPort: UInt32 = 14512
  /// `max_kill_timeout` (default 30 s).
  public var maxKillTimeout: Duration = .seconds(30)
  /// The stats collection interval used for `TaskStats` (default 1 s).
  public var statsInterval: Duration = .seconds(1)
  public var nodeName: String
  public var nodeID: String
  public var datacenter = "dc1"
  public var region = "global"
  public var namespace = "default"
  /// The detected CPU topology.
  public var topology: HostTopology
  /// The cgroups mode (drives `CpusetCgroupPath` and `NOMAD_PARENT_CGROUP`).
  public var cgroupMode: NomadCgroupMode
  /// The agent's environment, copied into task environments for non-image isolation.
  public var hostEnvironment: [String: String]
  /// `env.denylist`.
  public var envDenyList: [String] = ClientConfig.defaultEnvDenyList
  /// `chroot_env`: host paths copied into every task dir of a driver with chroot isolation
  /// (Nomad's default map when empty).
  public var chrootEnv: [String: String] = [:]
  /// Mount the secrets dir as a tmpfs (Nomad does when running as root).
  public var mountTmpfs: Bool
  /// Bind-mount the shared alloc dir into task dirs for chroot isolation (Nomad does, as root).
  public var bindMountAllocDir: Bool
  /// How plugins are launched (stderr echo, start timeout...).
  public var pluginLaunch: PluginLaunchOptions = PluginLaunchOptions()
  /// The agent log.
  public var logger: Logger

  /// A config with Nomad's defaults and detected host facts.
  public init(dataDir: String, logger: Logger = Logger(label: "nomad-host")) {
    self.dataDir = dataDir
    self.nodeName = ProcessInfo.processInfo.hostName
    self.nodeID = UUID().uuidString.lowercased()
    self.topology = HostTopology.detect()
    self.cgroupMode = NomadCgroupMode.detect()
    self.hostEnvironment = ProcessInfo.processInfo.environment
    self.mountTmpfs = Syscall.isRoot
    self.bindMountAllocDir = Syscall.isRoot
    self.logger = logger
  }

  /// `DefaultEnvDenylist` of Nomad v1.1.2 (`client/config/config.go`).
  public static let defaultEnvDenyList = [
    "CONSUL_TOKEN", "CONSUL_HTTP_TOKEN", "VAULT_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN", "GOOGLE_APPLICATION_CREDENTIALS",
  ]

  /// `DefaultChrootEnv` of Nomad v1.1.2 (`client/config/config.go`).
  public static let defaultChrootEnv = [
    "/bin": "/bin", "/etc": "/etc", "/lib": "/lib", "/lib32": "/lib32", "/lib64": "/lib64",
    "/run/resolvconf": "/run/resolvconf", "/sbin": "/sbin", "/usr": "/usr",
    "/run/systemd/resolve": "/run/systemd/resolve",
  ]

  /// The chroot map used: `chrootEnv`, or Nomad's default when it is empty.
  public var effectiveChrootEnv: [String: String] { chrootEnv.isEmpty ? Self.defaultChrootEnv : chrootEnv }

  /// `<dataDir>/alloc`.
  public var allocRoot: String { "\(dataDir)/alloc" }

  /// The `nomad_config` sent to the real plugin instance (`AgentConfig.toProto`).
  public var nomadConfig: NomadConfigProto {
    var driver = Hashicorp_Nomad_Plugins_Base_Proto_NomadDriverConfig()
    driver.clientMinPort = clientMinPort
    driver.clientMaxPort = clientMaxPort
    driver.topology = topology.proto
    var config = NomadConfigProto()
    config.driver = driver
    return config
  }
}
