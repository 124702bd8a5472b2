import Foundation
import MiloSys

/// What a finished command printed and how it ended.
public struct CommandResult: Sendable {
  /// The exit status, or 128+N when a signal ended it.
  public var status: Int32
  public var stdout: Data
  public var stderr: Data

  public var output: String { String(decoding: stdout, as: UTF8.self) }
  public var errorOutput: String { String(decoding: stderr, as: UTF8.self) }

  public init(status: Int32, stdout: Data = Data(), stderr: Data = Data()) {
    self.status = status
    self.stdout = stdout
    self.stderr = stderr
  }
}

/// A command failed to start, or ended with a status other than zero.
public struct CommandError: Error, CustomStringConvertible {
  public var command: [String]
  public var result: CommandResult?
  public var reason: String

  public var description: String {
    var text = "`\(command.joined(separator: " "))` \(reason)"
    if let result {
      text +=
        " (exit \(result.status))\nstdout: \(result.output.suffix(2000))\nstderr: \(result.errorOutput.suffix(2000))"
    }
    return text
  }
}

/// Runs programs to completion with their output captured in files (no pipe can fill up).
public enum Command {
  /// Runs `argv` with `environment` added to this process's environment; kills it after
  /// `timeout` seconds.
  public static func run(
    _ argv: [String], environment: [String: String] = [:], timeout: Double = 120
  ) async throws -> CommandResult {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "e2e-cmd-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let outURL = directory.appendingPathComponent("out")
    let errURL = directory.appendingPathComponent("err")
    let process = try ChildProcess(
      [try resolve(argv[0])] + argv.dropFirst(),
      environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
      stdout: outURL.path, stderr: errURL.path)
    let timer = Task {
      try await Task.sleep(for: .seconds(timeout))
      await process.stop(SIGTERM, grace: 2)
    }
    let status = await process.wait()
    timer.cancel()
    return CommandResult(
      status: status, stdout: (try? Data(contentsOf: outURL)) ?? Data(),
      stderr: (try? Data(contentsOf: errURL)) ?? Data())
  }

  /// Runs `argv` and throws unless it exits 0.
  @discardableResult
  public static func check(
    _ argv: [String], environment: [String: String] = [:], timeout: Double = 120
  ) async throws -> CommandResult {
    let result = try await run(argv, environment: environment, timeout: timeout)
    guard result.status == 0 else {
      throw CommandError(command: argv, result: result, reason: "failed")
    }
    return result
  }

  /// An absolute path for `name`: itself when it has a slash, else its first match on PATH.
  public static func resolve(_ name: String) throws -> String {
    if name.contains("/") { return name }
    if let found = Environment.executable(named: name) { return found }
    throw CommandError(command: [name], result: nil, reason: "is not on PATH")
  }
}
