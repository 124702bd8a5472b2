import Foundation
import NomadPlugin
import Testing

@testable import Milo

/// `volume_mount`s and devices from Nomad's TaskConfig as OCI mounts, devices and device rules.
@Suite struct TaskVolumesTests {
  static let nobody = TaskUser(name: "nobody", uid: 65534, gid: 65534, groups: [])

  static func task(mounts: [(String, String, Bool, String)] = [], devices: [(String, String, String)] = [])
    -> TaskConfig
  {
    var config = TaskConfig()
    config.mounts = mounts.map { task, host, readOnly, propagation in
      var mount = Mount()
      mount.taskPath = task
      mount.hostPath = host
      mount.readonly = readOnly
      mount.propagationMode = propagation
      return mount
    }
    config.devices = devices.map { task, host, permissions in
      var device = Device()
      device.taskPath = task
      device.hostPath = host
      device.cgroupPermissions = permissions
      return device
    }
    return config
  }

  @Test func hostVolumesBecomeBindMountsWithTheirModeAndPropagation() throws {
    let dir = TempDir("milo-volumes")
    dir.makeDirectory("data")
    dir.makeDirectory("shared")
    chmod(dir.path + "/data", 0o777)
    let volumes = try TaskVolumes.resolve(
      Self.task(mounts: [
        ("/srv/data/", dir.path + "/data", false, ""),
        ("/srv/shared", dir.path + "/shared", true, "host-to-task"),
        ("/srv/both", dir.path + "/shared", true, "bidirectional"),
      ]), user: Self.nobody)
    #expect(
      volumes.mounts == [
        .init(
          destination: "/srv/data", type: "bind", source: dir.path + "/data",
          options: ["rbind", "nosuid", "nodev", "rw", "rprivate"]),
        .init(
          destination: "/srv/shared", type: "bind", source: dir.path + "/shared",
          options: ["rbind", "nosuid", "nodev", "ro", "rslave"]),
        .init(
          destination: "/srv/both", type: "bind", source: dir.path + "/shared",
          options: ["rbind", "nosuid", "nodev", "ro", "rshared"]),
      ])
    #expect(volumes.warnings.isEmpty)
  }

  @Test func aWritableVolumeTheTaskUserCannotWriteIsAWarning() throws {
    let dir = TempDir("milo-volumes")
    dir.makeDirectory("rootonly")
    chmod(dir.path + "/rootonly", 0o755)
    let volumes = try TaskVolumes.resolve(
      Self.task(mounts: [("/data", dir.path + "/rootonly", false, "private")]), user: Self.nobody)
    #expect(volumes.mounts.count == 1)
    #expect(volumes.warnings.count == 1)
    #expect(volumes.warnings.first?.contains("not by the task's user nobody (uid 65534)") == true)
    // Read-only, or run as its owner: nothing to warn about.
    let readOnly = try TaskVolumes.resolve(
      Self.task(mounts: [("/data", dir.path + "/rootonly", true, "")]), user: Self.nobody)
    #expect(readOnly.warnings.isEmpty)
    let owner = TaskUser(name: "owner", uid: getuid(), gid: getgid(), groups: [])
    #expect(
      try TaskVolumes.resolve(Self.task(mounts: [("/data", dir.path + "/rootonly", false, "")]), user: owner).warnings
        .isEmpty)
  }

  @Test(arguments: [
    ("data", "absolute path"), ("/srv/../etc", "absolute path"), ("/", "a path milo mounts itself"),
    ("/local", "a path milo mounts itself"), ("/proc/sys", "a path milo mounts itself"),
    ("/dev/sda", "a path milo mounts itself"), ("/usr", "a path milo mounts itself"),
  ])
  func badDestinationsAreRefusedWithAnExplanation(destination: String, reason: String) throws {
    let dir = TempDir("milo-volumes")
    let error = #expect(throws: TaskError.self) {
      try TaskVolumes.resolve(Self.task(mounts: [(destination, dir.path, true, "")]), user: Self.nobody)
    }
    #expect(error?.description.contains(reason) == true, "\(error?.description ?? "")")
    #expect(error?.description.contains("Suggestion:") == true)
  }

  @Test func aMissingSourceAnUnknownPropagationAndTwoMountsAtOnePathAreRefused() {
    let dir = TempDir("milo-volumes")
    let missing = #expect(throws: TaskError.self) {
      try TaskVolumes.resolve(Self.task(mounts: [("/data", dir.path + "/nope", false, "")]), user: Self.nobody)
    }
    #expect(missing?.what == "the volume for /data has no source on this host")
    let propagation = #expect(throws: TaskError.self) {
      try TaskVolumes.resolve(Self.task(mounts: [("/data", dir.path, false, "shared")]), user: Self.nobody)
    }
    #expect(propagation?.got == "\"shared\"")
    let twice = #expect(throws: TaskError.self) {
      try TaskVolumes.resolve(
        Self.task(mounts: [("/data", dir.path, true, ""), ("/data/", dir.path, true, "")]), user: Self.nobody)
    }
    #expect(twice?.what == "two volumes are mounted at /data")
  }

  @Test func devicesBecomeDeviceNodesAndCgroupRules() throws {
    let volumes = try TaskVolumes.resolve(
      Self.task(devices: [("/dev/fuzz", "/dev/null", "rw"), ("/dev/zero", "/dev/zero", "")]), user: Self.nobody)
    #expect(volumes.devices.map(\.path) == ["/dev/fuzz", "/dev/zero"])
    #expect(volumes.devices.allSatisfy { $0.type == "c" && $0.major == 1 })
    #expect(volumes.devices.map(\.minor) == [3, 5])
    #expect(
      volumes.deviceRules == [
        .init(allow: true, access: "rw", type: "c", major: 1, minor: 3),
        .init(allow: true, access: "rwm", type: "c", major: 1, minor: 5),
      ])
    #expect(throws: TaskError.self) {
      try TaskVolumes.resolve(Self.task(devices: [("/dev/x", "/etc/hostname", "")]), user: Self.nobody)
    }
    #expect(throws: TaskError.self) {
      try TaskVolumes.resolve(Self.task(devices: [("/dev/x", "/dev/null", "rwx")]), user: Self.nobody)
    }
  }

  @Test func theBundleCarriesVolumesAndDevicesAfterMilosOwnMounts() throws {
    let dir = TempDir("milo-volumes")
    var request = BundleRequest(
      containerID: "milo-a_b", bundleDir: dir.path + "/bundle", taskDir: dir.path, allocDir: dir.path,
      java: JavaRuntime(home: "/usr/lib/jvm/java-17", version: "17", vendor: "Debian", runtimeVersion: "17"),
      command: JavaCommand(arguments: ["-jar", "/local/app.jar"], hostJar: dir.path + "/local/app.jar"),
      env: [:], user: Self.nobody, capabilities: [], resources: nil, networkNamespacePath: nil,
      cgroupsPath: "/milo/milo-a_b", workDir: nil)
    request.volumes = try TaskVolumes.resolve(
      Self.task(mounts: [("/data", dir.path, true, "")], devices: [("/dev/null2", "/dev/null", "rwm")]),
      user: Self.nobody)
    let spec = BundleBuilder.spec(for: request)
    #expect(spec.mounts.last?.destination == "/data")
    #expect(spec.linux.devices?.map(\.path) == ["/dev/null2"])
    #expect(spec.linux.resources.devices.first == .init(allow: false, access: "rwm"))
    #expect(spec.linux.resources.devices.last == .init(allow: true, access: "rwm", type: "c", major: 1, minor: 3))
    // Without volumes the spec has no devices list at all.
    request.volumes = TaskVolumes()
    #expect(BundleBuilder.spec(for: request).linux.devices == nil)
  }
}
