import ArgumentParser
import Foundation
import NomadHost

/// `nomad-host logs <alloc-dir> <task>`: `nomad alloc logs` on an alloc directory.
struct LogsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "logs",
    abstract: "Print a task's logs from an alloc dir, like `nomad alloc logs`.",
    discussion: """
      Without flags: stdout from the beginning. -f alone follows both stdout and stderr from \
      the start of their current (highest-numbered) files. -tail shows the end (-n lines, default 10, estimated \
      at 120 bytes per line; or -c bytes).
      """)

  @Argument(help: "The alloc dir (<data-dir>/alloc/<alloc-id>) or its alloc/logs dir.")
  var allocDir: String

  @Argument(help: "The task name.")
  var task: String

  @Flag(name: .customShort("f"), help: "Follow the log (across rotations).")
  var follow = false

  @Flag(name: .customLong("stderr", withSingleDash: true), help: "Show stderr instead of stdout.")
  var stderr = false

  @Flag(name: .customLong("stdout", withSingleDash: true), help: "Show stdout (with -f: only stdout).")
  var stdout = false

  @Flag(name: .customLong("tail", withSingleDash: true), help: "Show the end of the log.")
  var tail = false

  @Option(name: .customShort("n"), help: "With -tail: lines to show.")
  var lines: Int64 = -1

  @Option(name: .customShort("c"), help: "With -tail: bytes to show.")
  var bytes: Int64 = -1

  func run() async throws {
    signal(SIGPIPE, SIG_IGN)
    var logDir = allocDir
    if FileManager.default.fileExists(atPath: "\(allocDir)/alloc/logs") { logDir = "\(allocDir)/alloc/logs" }
    let options = AllocLogsOptions(
      follow: follow, stdout: stdout, stderr: stderr, tail: tail, lines: lines, bytes: bytes)
    let plan: AllocLogsPlan
    do {
      plan = try AllocLogsPlan.make(options: options, logDir: logDir, task: task)
    } catch {
      Console.err("\(error)")
      throw ExitCode(1)
    }
    do {
      switch plan {
      case .both(let out, let err):
        async let a: Void = copy(AllocLogReader.bytes(out), to: .standardOutput)
        async let b: Void = copy(AllocLogReader.bytes(err), to: .standardError)
        _ = try await (a, b)
      case .single(let request, let lineLimit):
        try await copy(AllocLogReader.output(request, lineLimit: lineLimit), to: .standardOutput)
      }
    } catch {
      Console.err("Failed to read \(stderr ? "stderr" : "stdout") file: \(error)")
      throw ExitCode(1)
    }
  }

  private func copy(_ stream: AsyncThrowingStream<[UInt8], any Error>, to handle: FileHandle) async throws {
    for try await chunk in stream { Console.write(Data(chunk), to: handle) }
  }
}
