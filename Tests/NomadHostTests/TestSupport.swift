import Foundation
@_exported import TestSupport

/// A fresh temporary directory, removed by `cleanup()`.
struct TempDir {
  let path: String

  init(_ name: String = "nomadhost") throws {
    path = NSTemporaryDirectory() + "\(name)-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  func file(_ name: String) -> String { "\(path)/\(name)" }

  func write(_ name: String, _ text: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: file(name)))
  }

  func write(_ name: String, bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: file(name)))
  }

  func read(_ name: String) -> [UInt8] {
    (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: file(name))))) ?? []
  }

  func readText(_ name: String) -> String { String(decoding: read(name), as: UTF8.self) }

  func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name)) }

  func names() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }

  /// Makes an executable shell script.
  func script(_ name: String, _ body: String) throws -> String {
    try write(name, "#!/bin/sh\n" + body + "\n")
    chmod(file(name), 0o755)
    return file(name)
  }

  func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

/// Collects an async throwing byte stream into one array.
func collect(_ stream: AsyncThrowingStream<[UInt8], any Error>) async throws -> [UInt8] {
  var out: [UInt8] = []
  for try await chunk in stream { out += chunk }
  return out
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
