import Foundation

/// The network namespace Nomad's default network manager creates for an alloc in bridge mode
/// (`/var/run/netns/<allocID>`), created here with `ip netns add`. NomadHost only brings up the
/// loopback interface; it does not configure the CNI bridge, veth pairs or port mappings.
public enum NetworkNamespace {
  /// The namespace path for an alloc.
  public static func path(allocID: String) -> String { "/var/run/netns/\(allocID)" }

  /// Creates the namespace (idempotent) and brings `lo` up; returns its path.
  public static func create(allocID: String) throws -> String {
    let path = path(allocID: allocID)
    if !FileManager.default.fileExists(atPath: path) {
      try run(["netns", "add", allocID])
    }
    try run(["netns", "exec", allocID, "ip", "link", "set", "lo", "up"])
    return path
  }

  /// Deletes the namespace (ignores a missing one).
  public static func destroy(allocID: String) {
    guard FileManager.default.fileExists(atPath: path(allocID: allocID)) else { return }
    try? run(["netns", "delete", allocID])
  }

  private static func run(_ arguments: [String]) throws {
    let candidates = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
    guard let ip = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
      throw NetworkSetupError("failed to create network namespace: ip(8) not found")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: ip)
    process.arguments = arguments
    let errors = Pipe()
    process.standardError = errors
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    guard process.terminationStatus == 0 else {
      throw NetworkSetupError(
        "ip \(arguments.joined(separator: " ")) failed: \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
    }
  }
}

/// A network setup failure.
public struct NetworkSetupError: Error, CustomStringConvertible, Sendable {
  public var description: String
  public init(_ description: String) { self.description = description }
}
