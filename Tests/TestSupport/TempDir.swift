import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// A fresh directory under the system temp dir, removed when the value goes away.
public final class TempDir: @unchecked Sendable {
  public let path: String

  public init(_ label: String = "milo-test") {
    var template = Array((NSTemporaryDirectory() + "/\(label).XXXXXX").utf8CString)
    let made = template.withUnsafeMutableBufferPointer { buffer in
      buffer.baseAddress.flatMap { mkdtemp($0) }.map { String(cString: $0) }
    }
    guard let made else { preconditionFailure("mkdtemp failed: errno \(errno)") }
    // Resolved, so paths compare equal to what code that resolves links computes.
    path = URL(fileURLWithPath: made).resolvingSymlinksInPath().path
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }

  /// The absolute path of `relative`.
  public func file(_ relative: String) -> String { path + "/" + relative }

  /// The contents of `relative`; empty when it cannot be read.
  public func read(_ relative: String) -> [UInt8] {
    FileManager.default.contents(atPath: file(relative)).map { [UInt8]($0) } ?? []
  }

  /// The contents of `relative` as UTF-8; empty when it cannot be read.
  public func readText(_ relative: String) -> String { String(decoding: read(relative), as: UTF8.self) }

  public func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: file(relative)) }

  /// The names in the directory itself, sorted.
  public func names() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }

  /// Creates `relative` (and its parents) as a directory and returns its absolute path.
  @discardableResult
  public func makeDirectory(_ relative: String) -> String {
    let full = path + "/" + relative
    createDirectories(full)
    return full
  }

  /// Writes `bytes` to `relative` (creating parent directories) and returns its absolute path.
  @discardableResult
  public func write(_ relative: String, _ bytes: [UInt8], mode: Int = 0o644) -> String {
    let full = path + "/" + relative
    let parent = (full as NSString).deletingLastPathComponent
    createDirectories(parent)
    precondition(FileManager.default.createFile(atPath: full, contents: Data(bytes)))
    chmod(full, mode_t(mode))
    return full
  }

  @discardableResult
  public func write(_ relative: String, _ text: String, mode: Int = 0o644) -> String {
    write(relative, Array(text.utf8), mode: mode)
  }

  /// Creates a FIFO at `relative` and returns its absolute path.
  public func makeFifo(_ relative: String) -> String {
    let full = path + "/" + relative
    precondition(mkfifo(full, 0o600) == 0, "mkfifo \(full): errno \(errno)")
    return full
  }
}

/// Creates `path` and its parents; a test cannot go on without them.
public func createDirectories(_ path: String) {
  do {
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  } catch {
    preconditionFailure("create \(path): \(error)")
  }
}
