import Foundation
import MiloSys
@_exported import TestSupport

extension TempDir {
  /// Writes an executable shell script and returns its path.
  func script(_ name: String, _ body: String) -> String {
    write(name, "#!/bin/sh\n" + body + "\n", mode: 0o755)
  }
}

/// Opens `task`'s stdout and stderr FIFOs in `dir` for writing, each on a background thread
/// (a blocking open, as executors do).
func openWriters(_ dir: TempDir, task: String) async -> (out: Int32, err: Int32) {
  func openWriter(_ path: String) async -> Int32 {
    await Blocking.run { open(path, O_WRONLY) }
  }
  return (await openWriter(dir.file(".\(task).stdout.fifo")), await openWriter(dir.file(".\(task).stderr.fifo")))
}

/// Collects an async throwing byte stream into one array.
func collect(_ stream: AsyncThrowingStream<[UInt8], any Error>) async throws -> [UInt8] {
  var out: [UInt8] = []
  for try await chunk in stream { out += chunk }
  return out
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
