import Foundation
import NomadHost

/// Streams a task's log to the terminal from its first byte, following rotations; waits for
/// the first log file to appear.
enum LogFollower {
  static func start(logDir: String, task: String, type: LogType) -> Task<Void, Never> {
    Task {
      let first = "\(logDir)/\(task).\(type.rawValue).0"
      while !Task.isCancelled && !FileManager.default.fileExists(atPath: first) {
        try? await Task.sleep(for: .milliseconds(100))
      }
      let request = LogStreamRequest(logDir: logDir, task: task, type: type, origin: .start, offset: 0, follow: true)
      let handle: FileHandle = type == .stdout ? .standardOutput : .standardError
      do {
        for try await chunk in AllocLogReader.bytes(request) { Console.write(Data(chunk), to: handle) }
      } catch {
        if !Task.isCancelled { Console.err("log follower for \(task) \(type.rawValue): \(error)") }
      }
    }
  }
}
