import Foundation

/// Line-oriented terminal output.
enum Console {
  private static let lock = NSLock()

  /// Prints a line to stdout.
  static func out(_ line: String) {
    write(Data((line + (line.hasSuffix("\n") ? "" : "\n")).utf8), to: .standardOutput)
  }

  /// Prints a line to stderr.
  static func err(_ line: String) {
    write(Data((line + "\n").utf8), to: .standardError)
  }

  /// Writes raw bytes.
  static func write(_ data: Data, to handle: FileHandle) {
    lock.lock()
    defer { lock.unlock() }
    handle.write(data)
  }
}
