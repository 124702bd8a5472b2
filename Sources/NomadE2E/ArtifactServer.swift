import Foundation

/// Serves a directory over HTTP on loopback, since Nomad's artifact getter has no `file://`.
public final class ArtifactServer: @unchecked Sendable {
  public let directory: String
  public let port: Int
  private let process: ChildProcess

  /// Starts `python3 -m http.server` on 127.0.0.1 with a port the kernel picks.
  public init(directory: String) async throws {
    self.directory = directory
    let logPath = directory + "/.http-server.log"
    try? FileManager.default.removeItem(atPath: logPath)
    let process = try ChildProcess(
      [
        try Command.resolve("python3"), "-u", "-m", "http.server", "0", "--bind", "127.0.0.1",
        "--directory", directory,
      ],
      environment: ProcessInfo.processInfo.environment, stdout: logPath, stderr: logPath)
    self.process = process
    var found: Int?
    for _ in 0..<200 where found == nil {
      let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
      if let range = text.range(of: "port ") {
        found = Int(text[range.upperBound...].prefix { $0.isNumber })
      }
      if found == nil { try await Task.sleep(for: .milliseconds(50)) }
    }
    guard let found else {
      await process.stop(SIGKILL)
      throw CommandError(command: ["python3", "-m", "http.server"], result: nil, reason: "printed no port")
    }
    self.port = found
  }

  /// The URL of `file` in the served directory.
  public func url(_ file: String) -> String { "http://127.0.0.1:\(port)/\(file)" }

  /// Stops the server.
  public func stop() async {
    await process.stop()
  }
}
