import Logging

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// A swift-log backend that writes one hclog JSON object per line to standard error.
///
/// go-plugin re-logs such lines in the Nomad agent log at their own level, provided `@timestamp`
/// uses Go's `2006-01-02T15:04:05.000000Z07:00` layout; any other line is logged at DEBUG.
public struct HCLogHandler: LogHandler {
  public var metadata: Logger.Metadata = [:]
  public var logLevel: Logger.Level
  private let module: String
  private let fd: Int32

  /// Creates a handler for `module` (shown as `@module`) writing to `fd` (standard error by default).
  public init(module: String, level: Logger.Level = .info, fd: Int32 = 2) {
    self.module = module
    self.logLevel = level
    self.fd = fd
  }

  public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  public func log(event: LogEvent) {
    var merged = metadata
    if let extra = event.metadata { merged.merge(extra) { _, new in new } }
    let line = Self.render(
      level: event.level, message: "\(event.message)", module: module, metadata: merged,
      timestamp: Self.timestamp())
    line.withCString { pointer in
      var offset = 0
      let count = strlen(pointer)
      while offset < count {
        let written = write(fd, pointer + offset, count - offset)
        if written < 0 {
          if errno == EINTR { continue }
          return
        }
        offset += written
      }
    }
  }

  /// Renders one hclog JSON line (with trailing newline). Keys are written in a stable order.
  public static func render(
    level: Logger.Level, message: String, module: String, metadata: Logger.Metadata,
    timestamp: String
  ) -> String {
    var out = "{\"@level\":\"\(hclogLevel(level))\",\"@message\":"
    appendJSONString(message, to: &out)
    out += ",\"@module\":"
    appendJSONString(module, to: &out)
    out += ",\"@timestamp\":\"\(timestamp)\""
    for key in metadata.keys.sorted() where !key.hasPrefix("@") {
      out += ","
      appendJSONString(key, to: &out)
      out += ":"
      appendJSONString(metadata[key].map { "\($0)" } ?? "", to: &out)
    }
    out += "}\n"
    return out
  }

  /// hclog's level names: trace, debug, info, warn, error.
  public static func hclogLevel(_ level: Logger.Level) -> String {
    switch level {
    case .trace: "trace"
    case .debug: "debug"
    case .info, .notice: "info"
    case .warning: "warn"
    case .error, .critical: "error"
    }
  }

  /// The current UTC time in Go's `2006-01-02T15:04:05.000000Z07:00` layout.
  public static func timestamp() -> String {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    var seconds = now.tv_sec
    var parts = tm()
    gmtime_r(&seconds, &parts)
    func pad(_ value: Int, _ width: Int) -> String {
      let digits = String(value)
      return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
    return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-"
      + "\(pad(Int(parts.tm_mday), 2))T\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):"
      + "\(pad(Int(parts.tm_sec), 2)).\(pad(Int(now.tv_nsec) / 1000, 6))Z"
  }

  static func appendJSONString(_ value: String, to out: inout String) {
    StringQuoting.append(value, .json, to: &out)
  }
}
