import Foundation
import NomadPlugin

#if canImport(Glibc)
  import Glibc
#endif

/// The volumes and devices Nomad hands a task, as OCI mounts, devices and device rules.
///
/// Nomad's client turns a group's `volume` (a client `host_volume`, or a CSI volume it has
/// staged and published) and the task's `volume_mount` into `TaskConfig.mounts`, with the host
/// path already resolved, and a task's `device` requests into `TaskConfig.devices`.
/// `read_only` holds whichever of the volume, the group's request or the mount asked for it.
public struct TaskVolumes: Sendable, Equatable {
  public var mounts: [OCISpec.Mount] = []
  public var devices: [OCISpec.Device] = []
  public var deviceRules: [OCISpec.DeviceRule] = []
  /// Problems that do not stop the task (a writable volume the task user cannot write).
  public var warnings: [String] = []

  public init() {}

  /// Container paths milo mounts itself, which a volume may not replace.
  static let reserved: Set<String> = [
    "/", "/proc", "/sys", "/dev", "/usr", "/etc", "/local", "/secrets", "/tmp", "/alloc",
    "/.milo", "/bin", "/sbin", "/lib", "/lib64",
  ]
  /// Container paths below which no volume may be mounted (kernel filesystems, milo's init).
  static let reservedTrees = ["/proc/", "/sys/", "/.milo/"]

  /// Nomad's `propagation_mode` as mount options, as its docker driver maps it.
  static let propagation: [String: String] = [
    "": "rprivate", "private": "rprivate", "host-to-task": "rslave", "bidirectional": "rshared",
  ]

  /// Validates and converts `task.mounts` and `task.devices` for a task running as `user`.
  public static func resolve(_ task: TaskConfig, user: TaskUser) throws(TaskError) -> TaskVolumes {
    var result = TaskVolumes()
    var seen: Set<String> = []
    for mount in task.mounts {
      let destination = try containerPath(mount.taskPath, what: "volume_mount destination")
      guard seen.insert(destination).inserted else {
        throw TaskError(
          "two volumes are mounted at \(destination)", expected: "one volume_mount per destination",
          got: "destination = \"\(destination)\" twice", suggestion: "give each volume_mount its own destination.")
      }
      guard let propagation = propagation[mount.propagationMode] else {
        throw TaskError(
          "unknown propagation_mode for the volume at \(destination)",
          expected: "\"private\", \"host-to-task\" or \"bidirectional\"", got: "\"\(mount.propagationMode)\"",
          suggestion: "use one of the three, or leave propagation_mode out (private).")
      }
      var isDirectory: ObjCBool = false
      guard !mount.hostPath.isEmpty, FileManager.default.fileExists(atPath: mount.hostPath, isDirectory: &isDirectory)
      else {
        throw TaskError(
          "the volume for \(destination) has no source on this host", expected: "an existing host path",
          got: "\"\(mount.hostPath)\"",
          suggestion:
            "create the directory of the client's host_volume (or check the CSI plugin), then restart the task.")
      }
      result.mounts.append(
        OCISpec.Mount(
          destination: destination, type: "bind", source: mount.hostPath,
          options: ["rbind", "nosuid", "nodev", mount.readonly ? "ro" : "rw", propagation]))
      if !mount.readonly, isDirectory.boolValue, !canWrite(mount.hostPath, user: user) {
        result.warnings.append(
          "The volume at \(destination) (host path \(mount.hostPath)) is writable, but not by the task's user "
            + "\(user.name) (uid \(user.uid)): writes will fail with Permission denied. "
            + "Give that user write access to the host directory, or run the task as a user who has it (`user`).")
      }
    }
    for device in task.devices {
      let destination = try containerPath(device.taskPath, what: "device task_path", allowDev: true)
      let converted = try Self.device(device, at: destination)
      result.devices.append(converted.device)
      result.deviceRules.append(converted.rule)
    }
    return result
  }

  /// An absolute, normalised container path outside milo's own mounts.
  static func containerPath(_ raw: String, what: String, allowDev: Bool = false) throws(TaskError) -> String {
    let parts = raw.split(separator: "/", omittingEmptySubsequences: true)
    let path = "/" + parts.joined(separator: "/")
    guard raw.hasPrefix("/"), !parts.contains(".."), !parts.contains(".") else {
      throw TaskError(
        "the \(what) must be an absolute path inside the container", expected: "a path such as /data",
        got: "\"\(raw)\"", suggestion: "start it with / and leave out . and .. components.")
    }
    let underDev = path.hasPrefix("/dev/")
    let reservedHere =
      reserved.contains(path) || reservedTrees.contains { path.hasPrefix($0) } || (underDev && !allowDev)
    guard !reservedHere else {
      throw TaskError(
        "the \(what) \(path) would cover a path milo mounts itself", expected: "a path outside \(reservedList)",
        got: "\"\(raw)\"", suggestion: "mount the volume elsewhere, for example below /data or /srv.")
    }
    return path
  }

  static var reservedList: String {
    (reserved.filter { $0 != "/" }.sorted() + reservedTrees.map { $0 + "*" } + ["/dev/*"]).joined(separator: ", ")
  }

  /// A host character or block device as an OCI device and the cgroup rule that allows it.
  static func device(_ device: Device, at destination: String) throws(TaskError) -> (
    device: OCISpec.Device, rule: OCISpec.DeviceRule
  ) {
    var info = stat()
    let isDevice = stat(device.hostPath, &info) == 0 && [S_IFCHR, S_IFBLK].contains(info.st_mode & S_IFMT)
    guard isDevice else {
      throw TaskError(
        "the device for \(destination) is not a device on this host", expected: "a character or block device",
        got: "\"\(device.hostPath)\"", suggestion: "check the device plugin that offered it.")
    }
    let access = device.cgroupPermissions.isEmpty ? "rwm" : device.cgroupPermissions
    guard access.allSatisfy({ "rwm".contains($0) }) else {
      throw TaskError(
        "invalid cgroup permissions for the device \(destination)", expected: "letters of \"rwm\"",
        got: "\"\(device.cgroupPermissions)\"", suggestion: "use r, w and m only.")
    }
    let type = info.st_mode & S_IFMT == S_IFBLK ? "b" : "c"
    let rdev = UInt64(info.st_rdev)
    let major = Int64(((rdev >> 8) & 0xfff) | ((rdev >> 32) & ~UInt64(0xfff)))
    let minor = Int64((rdev & 0xff) | ((rdev >> 12) & ~UInt64(0xff)))
    return (
      OCISpec.Device(
        path: destination, type: type, major: major, minor: minor, fileMode: UInt32(info.st_mode & 0o777),
        uid: info.st_uid, gid: info.st_gid),
      OCISpec.DeviceRule(allow: true, access: access, type: type, major: major, minor: minor)
    )
  }

  /// Whether `user` may write into the directory `path`, by its owner, group and mode.
  static func canWrite(_ path: String, user: TaskUser) -> Bool {
    if user.uid == 0 { return true }
    var info = stat()
    guard stat(path, &info) == 0 else { return false }
    let mode = info.st_mode
    if info.st_uid == user.uid { return mode & S_IWUSR != 0 && mode & S_IXUSR != 0 }
    if info.st_gid == user.gid || user.groups.contains(info.st_gid) {
      return mode & S_IWGRP != 0 && mode & S_IXGRP != 0
    }
    return mode & S_IWOTH != 0 && mode & S_IXOTH != 0
  }
}
