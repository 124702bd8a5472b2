import ArgumentParser
import Dispatch
import Foundation
import MiloSys
import NomadHost

#if canImport(Glibc)
  import Glibc
#endif

/// `nomad-host exec [-i] [-t] <task> -- <command...>`.
struct ExecCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "exec",
    abstract: "Run a command in a running task (like `nomad alloc exec`).",
    discussion: """
      Without -i or -t the command runs with ExecTask (what script checks use): its output is \
      printed when it ends, within --timeout. With -i (forward this terminal's stdin) and/or -t \
      (allocate a terminal) it runs with ExecTaskStreaming, as `nomad alloc exec -i -t` does: \
      output streams as it comes, the local terminal is put in raw mode with -t, and window size \
      changes are forwarded. The exit status is the command's.
      """)
  @OptionGroup var agent: AgentOptions
  @Flag(name: [.customShort("i"), .customLong("stdin")], help: "Pass stdin to the command (streaming).")
  var stdin = false
  @Flag(name: [.customShort("t"), .customLong("tty")], help: "Allocate a terminal for the command (streaming).")
  var tty = false
  @Option(help: "Timeout in seconds for a non-interactive exec.") var timeout: Double = 30
  @Argument(help: "The task name.") var task: String
  @Argument(parsing: .captureForPassthrough, help: "The command.") var command: [String] = []

  func run() async throws {
    let args = command.first == "--" ? Array(command.dropFirst()) : command
    guard !args.isEmpty else { throw ValidationError("give a command after the task name, e.g. -- /bin/sh") }
    let list = "[" + args.map(AgentControl.quoteJSON).joined(separator: ",") + "]"
    if stdin || tty {
      let code = try await interactive(list)
      if code != 0 { throw ExitCode(code) }
      return
    }
    var exitCode: Int32 = 0
    let extra = "\"command\":\(list),\"timeout_ms\":\(Int(timeout * 1000))"
    try await agent.send(agent.request(["op": "exec", "task": task], extra: extra)) { line in
      guard let value = try? JSONValue.parse(line) else { return Console.out(line) }
      if let out = value["stdout"]?.stringValue { Console.write(Data(out.utf8), to: .standardOutput) }
      if let err = value["stderr"]?.stringValue { Console.write(Data(err.utf8), to: .standardError) }
      exitCode = Int32(value["exit_code"]?.int64Value ?? 0)
    }
    if exitCode != 0 { throw ExitCode(exitCode) }
  }

  /// An ExecTaskStreaming session through the agent's control socket.
  func interactive(_ list: String) async throws -> Int32 {
    var extra = "\"command\":\(list),\"interactive\":true,\"tty\":\(tty)"
    if tty, let size = Terminal.size() { extra += ",\"width\":\(size.width),\"height\":\(size.height)" }
    let session = try ControlClient.session(
      path: agent.socket, agent.request(["op": "exec", "task": task], extra: extra))
    let raw = tty && isatty(0) == 1 ? Terminal.makeRaw(0) : nil
    defer { if let raw { Terminal.restore(0, raw) } }

    var resizes: (any DispatchSourceSignal)?
    if tty {
      signal(SIGWINCH, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: SIGWINCH, queue: .global())
      source.setEventHandler {
        if let size = Terminal.size() {
          session.send("{\"resize\":{\"width\":\(size.width),\"height\":\(size.height)}}")
        }
      }
      source.resume()
      resizes = source
    }
    defer { resizes?.cancel() }
    if stdin {
      Blocking.detach(name: "exec-stdin") {
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        while true {
          let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
          if n < 0 && errno == EINTR { continue }
          if n <= 0 { break }
          let line = "{\"stdin\":\"\(Data(buffer[0..<n]).base64EncodedString())\"}"
          if !session.send(line) { return }
        }
        session.send("{\"stdin_close\":true}")
      }
    }
    var code: Int32 = 0
    for try await line in session.responses {
      guard let value = try? JSONValue.parse(line) else { continue }
      if let data = value["stdout"]?.stringValue.flatMap({ Data(base64Encoded: $0) }) {
        data.withUnsafeBytes { _ = Posix.writeAll(1, $0) }
      } else if let data = value["stderr"]?.stringValue.flatMap({ Data(base64Encoded: $0) }) {
        data.withUnsafeBytes { _ = Posix.writeAll(2, $0) }
      } else if let error = value["error"]?.stringValue {
        if let raw { Terminal.restore(0, raw) }
        Console.err(error)
        return 1
      } else if let exit = value["exit_code"]?.int64Value {
        code = Int32(clamping: exit)
      }
    }
    return code
  }
}

/// The local terminal: size, raw mode.
enum Terminal {
  static func size() -> (width: Int, height: Int)? {
    var size = winsize()
    for fd in [Int32(1), 0, 2] where ioctl(fd, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 {
      return (Int(size.ws_col), Int(size.ws_row))
    }
    return nil
  }

  /// Puts `fd` in raw mode; returns the previous settings.
  static func makeRaw(_ fd: Int32) -> termios? {
    var original = termios()
    guard tcgetattr(fd, &original) == 0 else { return nil }
    var raw = original
    cfmakeraw(&raw)
    guard tcsetattr(fd, TCSANOW, &raw) == 0 else { return nil }
    return original
  }

  static func restore(_ fd: Int32, _ settings: termios) {
    var settings = settings
    _ = tcsetattr(fd, TCSANOW, &settings)
  }
}
