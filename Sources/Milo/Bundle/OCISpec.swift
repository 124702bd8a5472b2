/// The subset of the OCI runtime spec (config.json) that milo writes.
public struct OCISpec: Codable, Sendable, Equatable {
  public var ociVersion = "1.0.2"
  public var process: Process
  public var root: Root
  public var hostname: String
  public var mounts: [Mount]
  public var linux: Linux

  public struct Process: Codable, Sendable, Equatable {
    public var terminal = false
    public var user: User
    public var args: [String]
    public var env: [String]
    public var cwd: String
    public var capabilities: Capabilities
    public var rlimits: [Rlimit]
    public var noNewPrivileges = true
    public var oomScoreAdj: Int?
  }

  public struct User: Codable, Sendable, Equatable {
    public var uid: UInt32
    public var gid: UInt32
    public var additionalGids: [UInt32]?
  }

  public struct Capabilities: Codable, Sendable, Equatable {
    public var bounding: [String]
    public var effective: [String]
    public var inheritable: [String]
    public var permitted: [String]
    public var ambient: [String]

    public init(_ caps: [String]) {
      bounding = caps
      effective = caps
      inheritable = caps
      permitted = caps
      ambient = caps
    }
  }

  public struct Rlimit: Codable, Sendable, Equatable {
    public var type: String
    public var hard: UInt64
    public var soft: UInt64
  }

  public struct Root: Codable, Sendable, Equatable {
    public var path: String
    public var readonly: Bool
  }

  public struct Mount: Codable, Sendable, Equatable {
    public var destination: String
    public var type: String
    public var source: String
    public var options: [String]?

    /// A bind mount of a host path.
    public static func bind(_ source: String, at destination: String? = nil, readOnly: Bool) -> Mount {
      Mount(
        destination: destination ?? source, type: "bind", source: source,
        options: ["rbind", "nosuid", "nodev", readOnly ? "ro" : "rw"])
    }
  }

  public struct Linux: Codable, Sendable, Equatable {
    public var resources: Resources
    public var cgroupsPath: String
    public var namespaces: [Namespace]
    public var maskedPaths: [String]
    public var readonlyPaths: [String]
    public var devices: [Device]?
  }

  public struct Namespace: Codable, Sendable, Equatable {
    public var type: String
    public var path: String?
  }

  public struct Resources: Codable, Sendable, Equatable {
    public var devices: [DeviceRule]
    public var memory: Memory?
    public var cpu: CPU?
    public var pids: Pids?
  }

  /// A device cgroup rule: all devices when type, major and minor are nil.
  public struct DeviceRule: Codable, Sendable, Equatable {
    public var allow: Bool
    public var access: String
    public var type: String?
    public var major: Int64?
    public var minor: Int64?

    public init(allow: Bool, access: String, type: String? = nil, major: Int64? = nil, minor: Int64? = nil) {
      self.allow = allow
      self.access = access
      self.type = type
      self.major = major
      self.minor = minor
    }
  }

  /// A device node the runtime creates in the container.
  public struct Device: Codable, Sendable, Equatable {
    public var path: String
    public var type: String
    public var major: Int64
    public var minor: Int64
    public var fileMode: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?
  }

  public struct Memory: Codable, Sendable, Equatable {
    public var limit: Int64?
    public var reservation: Int64?
    public var swap: Int64?
  }

  public struct CPU: Codable, Sendable, Equatable {
    public var shares: UInt64?
    public var quota: Int64?
    public var period: UInt64?
    public var cpus: String?
    public var mems: String?
  }

  public struct Pids: Codable, Sendable, Equatable {
    public var limit: Int64
  }
}
