/// Formats durations the way Go's `time.Duration.String()` does ("5s", "1m30s", "1.5s",
/// "250ms", "0s"), because Nomad's messages embed them (e.g. "Waiting 5s before force killing").
public enum GoDuration {
  /// Go's rendering of `duration`.
  public static func format(_ duration: Duration) -> String {
    let (seconds, attoseconds) = duration.components
    let nanos = seconds.multipliedReportingOverflow(by: 1_000_000_000)
    let total = nanos.overflow ? Int64.max : nanos.partialValue &+ attoseconds / 1_000_000_000
    return format(nanoseconds: total)
  }

  /// Go's rendering of a duration given in nanoseconds.
  public static func format(nanoseconds: Int64) -> String {
    if nanoseconds == 0 { return "0s" }
    let negative = nanoseconds < 0
    let magnitude = nanoseconds.magnitude
    var out: String
    if magnitude < 1_000_000_000 {
      // Sub-second: ns, µs or ms with a fraction.
      let (unit, divisor): (String, UInt64) =
        magnitude < 1_000 ? ("ns", 1) : magnitude < 1_000_000 ? ("µs", 1_000) : ("ms", 1_000_000)
      out = fraction(magnitude, divisor: divisor) + unit
    } else {
      var rest = magnitude
      let hours = rest / 3_600_000_000_000
      rest %= 3_600_000_000_000
      let minutes = rest / 60_000_000_000
      rest %= 60_000_000_000
      out = fraction(rest, divisor: 1_000_000_000) + "s"
      if hours > 0 {
        out = "\(hours)h\(minutes)m" + out
      } else if minutes > 0 {
        out = "\(minutes)m" + out
      }
    }
    return negative ? "-" + out : out
  }

  private static func fraction(_ value: UInt64, divisor: UInt64) -> String {
    let whole = value / divisor
    var remainder = value % divisor
    guard remainder != 0 else { return String(whole) }
    var digits = ""
    var scale = divisor / 10
    while remainder != 0 && scale > 0 {
      digits.append(Character(String(remainder / scale)))
      remainder %= scale
      scale /= 10
    }
    return "\(whole).\(digits)"
  }
}

extension GoDuration {
  /// Go's `time.ParseDuration` ("300ms", "1.5h", "2h45m"; units ns, us, µs, ms, s, m, h).
  public static func parse(_ text: String) -> Duration? {
    var rest = Substring(text)
    var negative = false
    if rest.first == "-" || rest.first == "+" {
      negative = rest.first == "-"
      rest = rest.dropFirst()
    }
    if rest == "0" { return .zero }
    guard !rest.isEmpty else { return nil }
    var total: Double = 0
    while !rest.isEmpty {
      let number = rest.prefix { $0.isNumber || $0 == "." }
      guard !number.isEmpty, let value = Double(number) else { return nil }
      rest = rest.dropFirst(number.count)
      let unit = rest.prefix { !($0.isNumber || $0 == ".") }
      rest = rest.dropFirst(unit.count)
      let scale: Double
      switch unit {
      case "ns": scale = 1
      case "us", "µs", "μs": scale = 1e3
      case "ms": scale = 1e6
      case "s": scale = 1e9
      case "m": scale = 60e9
      case "h": scale = 3600e9
      default: return nil
      }
      total += value * scale
    }
    let nanos = Int64(total.rounded())
    return .nanoseconds(negative ? -nanos : nanos)
  }
}
