import MiloSupervisor
import MiloSys

/// A user the container runs as, resolved from the host's /etc/passwd and /etc/group.
public struct TaskUser: Sendable, Equatable, Codable {
  public var name: String
  public var uid: UInt32
  public var gid: UInt32
  public var groups: [UInt32]

  /// Resolves a user name, a numeric `uid`, or `uid:gid`.
  public static func resolve(_ spec: String, passwd: String = "/etc/passwd", group: String = "/etc/group")
    throws(TaskError) -> TaskUser
  {
    let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
    let numericUID = UInt32(parts.first ?? "")
    if let uid = numericUID, parts.count == 2, let gid = UInt32(parts[1]) {
      return TaskUser(name: spec, uid: uid, gid: gid, groups: [])
    }
    let passwdText = Posix.readText(passwd) ?? ""
    for line in passwdText.split(separator: "\n") {
      let fields = line.split(separator: ":", omittingEmptySubsequences: false)
      guard fields.count >= 4, let uid = UInt32(fields[2]), let gid = UInt32(fields[3]) else { continue }
      guard fields[0] == spec || (numericUID == uid && parts.count == 1) else { continue }
      let spec = String(fields[0])
      var groups: [UInt32] = []
      for groupLine in (Posix.readText(group) ?? "").split(separator: "\n") {
        let groupFields = groupLine.split(separator: ":", omittingEmptySubsequences: false)
        guard groupFields.count >= 4, let id = UInt32(groupFields[2]), id != gid else { continue }
        if groupFields[3].split(separator: ",").contains(Substring(spec)) { groups.append(id) }
      }
      return TaskUser(name: spec, uid: uid, gid: gid, groups: groups)
    }
    if let uid = numericUID, parts.count == 1 {
      return TaskUser(name: spec, uid: uid, gid: uid, groups: [])
    }
    throw TaskError(
      "user \(spec) does not exist on this host",
      expected: "a user name from /etc/passwd, a numeric uid, or uid:gid",
      got: "user = \"\(spec)\"",
      suggestion: "create the user on the client (useradd \(spec)), set the task's user to an existing one,"
        + " or leave it unset to use the plugin's default_user.")
  }
}
