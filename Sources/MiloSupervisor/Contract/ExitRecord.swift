/// What the supervisor records about a task's end, durably, in `<state dir>/exit`.
public struct ExitRecord: Sendable, Equatable {
  /// The application's exit code (128+N style codes are decoded into `signal`).
  public var exitCode: Int
  /// The signal that killed the application, or 0.
  public var signal: Int
  /// True when the kernel's OOM killer ended the task.
  public var oomKilled: Bool
  /// Wall-clock nanoseconds since the epoch.
  public var startedAt: Int64
  public var finishedAt: Int64
  /// Set when the container never started; the text says why.
  public var startError: String?

  public init(
    exitCode: Int, signal: Int = 0, oomKilled: Bool = false, startedAt: Int64 = 0,
    finishedAt: Int64 = 0, startError: String? = nil
  ) {
    self.exitCode = exitCode
    self.signal = signal
    self.oomKilled = oomKilled
    self.startedAt = startedAt
    self.finishedAt = finishedAt
    self.startError = startError
  }

  /// The file's text: one `key=value` per line.
  public var text: String {
    var lines = [
      "exit_code=\(exitCode)", "signal=\(signal)", "oom_killed=\(oomKilled ? 1 : 0)",
      "started_at=\(startedAt)", "finished_at=\(finishedAt)",
    ]
    if let startError {
      // Split on scalars: "\r\n" is a single Character, so splitting on the Character "\n"
      // would leave a raw line break in the one-line value.
      let parts = startError.unicodeScalars.split(whereSeparator: { $0 == "\n" || $0 == "\r" })
      lines.append("start_error=" + parts.map { String(String.UnicodeScalarView($0)) }.joined(separator: " | "))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Parses `text`; nil when a required key is missing or malformed.
  public init?(text: String) {
    var fields: [Substring: Substring] = [:]
    // Lines end at "\n" (optionally "\r\n"), split on scalars for the reason above.
    for scalars in text.unicodeScalars.split(separator: "\n") {
      let trimmed = scalars.last == "\r" ? scalars.dropLast() : scalars[...]
      let line = Substring(String(String.UnicodeScalarView(trimmed)))
      guard let eq = line.firstIndex(of: "=") else { continue }
      fields[line[..<eq]] = line[line.index(after: eq)...]
    }
    guard let code = fields["exit_code"].flatMap({ Int($0) }),
      let signal = fields["signal"].flatMap({ Int($0) }),
      let oom = fields["oom_killed"].flatMap({ Int($0) })
    else { return nil }
    self.init(
      exitCode: code, signal: signal, oomKilled: oom != 0,
      startedAt: fields["started_at"].flatMap { Int64($0) } ?? 0,
      finishedAt: fields["finished_at"].flatMap { Int64($0) } ?? 0,
      startError: fields["start_error"].map(String.init))
  }
}
