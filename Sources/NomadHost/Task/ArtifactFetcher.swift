import Foundation

/// The artifacts hook's download, for local files: Nomad's go-getter has no `file://` scheme,
/// so NomadHost copies a local path (or `file://` URL) into the task dir at `RelativeDest`,
/// keeping the file name.
public enum ArtifactFetcher {
  /// Copies `artifact` into `taskDir`; returns the destination path. Errors read like Nomad's
  /// (`failed to download artifact "<source>": <reason>`).
  @discardableResult
  public static func fetch(_ artifact: ArtifactSpec, taskDir: String) throws -> String {
    var source = artifact.source
    if source.hasPrefix("file://") { source = String(source.dropFirst("file://".count)) }
    let fail = { (reason: String) in ArtifactError("failed to download artifact \(goQuote(artifact.source)): \(reason)")
    }
    let base = URL(fileURLWithPath: taskDir).standardizedFileURL
    let destinationDir = base.appendingPathComponent(artifact.destination).standardizedFileURL
    guard destinationDir.path == base.path || destinationDir.path.hasPrefix(base.path + "/") else {
      throw fail("artifact destination path escapes the alloc directory")
    }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
      throw fail("stat \(source): no such file or directory")
    }
    do {
      try FileManager.default.createDirectory(at: destinationDir, withIntermediateDirectories: true)
      let target = destinationDir.appendingPathComponent(URL(fileURLWithPath: source).lastPathComponent)
      if FileManager.default.fileExists(atPath: target.path) { try FileManager.default.removeItem(at: target) }
      try FileManager.default.copyItem(atPath: source, toPath: target.path)
      return target.path
    } catch {
      throw fail(error.localizedDescription)
    }
  }
}

/// An artifact failure (recoverable in Nomad: it counts against the restart policy).
public struct ArtifactError: Error, CustomStringConvertible, Sendable {
  public var description: String
  public init(_ description: String) { self.description = description }
}
