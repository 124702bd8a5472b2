import Foundation
import MiloSupervisor
import MiloSys

/// The executable milo runs beside each JVM: as the task's supervisor (`supervise`) and as the
/// container's first process (`init`).
///
/// The release archive ships a small helper, `milo.d/milo-task`, beside the plugin: it links
/// only the Swift standard library and MiloSupervisor, so the two processes per task stay small.
/// (Nomad skips subdirectories of `plugin_dir`, with a warning.) Without it, or when it speaks
/// another protocol version, the plugin binary serves both roles itself.
public struct TaskHelper: Sendable, Equatable {
  /// The helper's path.
  public var path: String
  /// Why the plugin binary serves instead of a helper; nil when the helper is used.
  public var fallbackReason: String?

  /// Where the helper may be, relative to the plugin's directory: the release archive's
  /// layout, then a development build's (both products in one directory).
  public static let candidates = ["milo.d/milo-task", "milo-task"]

  /// The helper beside `plugin` if one is there and speaks this plugin's protocol, else `plugin`.
  public static func locate(plugin: String) -> TaskHelper {
    let directory = (plugin as NSString).deletingLastPathComponent
    var reasons: [String] = []
    for candidate in candidates {
      let path = directory + "/" + candidate
      guard FileManager.default.isExecutableFile(atPath: path) else { continue }
      let reply = try? Spawn.run([path, "protocol"], environment: [])
      let version = reply?.output.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
      if reply?.status == 0 && version == SupervisorMain.protocolVersion {
        return TaskHelper(path: path, fallbackReason: nil)
      }
      reasons.append(
        "\(path) speaks \(version.isEmpty ? "no known protocol" : "\"\(version)\""), "
          + "not \"\(SupervisorMain.protocolVersion)\" (install the milo.d of the same release)")
    }
    let reason =
      reasons.first
      ?? "no helper at \(candidates.map { directory + "/" + $0 }.joined(separator: " or "))"
    return TaskHelper(path: plugin, fallbackReason: reason)
  }
}
