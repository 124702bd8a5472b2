/// What a driver can do (Go: `drivers.Capabilities`).
public struct DriverCapabilities: Sendable, Equatable {
  /// How the task's filesystem is isolated: decides how Nomad builds the task directory.
  public enum FSIsolation: Sendable, Equatable { case none, chroot, image, unveil }
  /// Which `volume_mount`s the driver accepts.
  public enum MountConfigs: Sendable, Equatable { case unknown, anyMounts, noMounts }

  public var sendSignals = false
  public var exec = false
  public var fsIsolation: FSIsolation = .none
  public var networkIsolationModes: [NetworkIsolationSpec.Mode] = []
  public var mustCreateNetwork = false
  public var mountConfigs: MountConfigs = .unknown
  public var disableLogCollection = false
  public var dynamicWorkloadUsers = false

  public init() {}
}
