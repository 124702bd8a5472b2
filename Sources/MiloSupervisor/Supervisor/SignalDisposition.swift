import MiloSys

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// How a process handles signals, from the `SigCgt`/`SigIgn`/`SigBlk` masks and `NSpid` of
/// `/proc/<pid>/status`.
///
/// The kernel delivers a signal to a pid namespace's init only when init has a handler for it or
/// blocks it (SIGKILL and SIGSTOP from an ancestor namespace excepted): otherwise a signal whose
/// default action would kill an ordinary process is silently discarded. milo's containers start
/// with `milo init`, which blocks and forwards every signal, so the JVM behaves as under Nomad's
/// `java` driver; a container whose JVM is its first process (a binary task users cannot
/// execute) discards e.g. SIGUSR1, and milo refuses such a signal instead of reporting it sent.
public struct SignalDisposition: Sendable, Equatable {
  /// Signals the process has a handler for.
  public var caught: Set<Int32>
  /// Signals the process ignores.
  public var ignored: Set<Int32>
  /// Signals the process blocks (they stay pending until it takes them).
  public var blocked: Set<Int32>
  /// The process's pid in the innermost pid namespace it belongs to (1 = that namespace's init).
  public var innermostPid: Int32

  public init(caught: Set<Int32>, ignored: Set<Int32>, innermostPid: Int32, blocked: Set<Int32> = []) {
    self.caught = caught
    self.ignored = ignored
    self.innermostPid = innermostPid
    self.blocked = blocked
  }

  /// Reads `/proc/<pid>/status`; nil when the process is gone.
  public static func read(pid: Int32) -> SignalDisposition? {
    Posix.readText("/proc/\(pid)/status").flatMap(parse)
  }

  /// Parses the text of a `/proc/<pid>/status` file.
  public static func parse(status text: String) -> SignalDisposition? {
    var caught: Set<Int32>?
    var ignored: Set<Int32>?
    var blocked: Set<Int32> = []
    var innermost: Int32?
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: ":", maxSplits: 1)
      guard parts.count == 2 else { continue }
      let value = String(parts[1]).trimmed(" \t")
      switch parts[0] {
      case "SigCgt": caught = mask(value)
      case "SigIgn": ignored = mask(value)
      case "SigBlk": blocked = mask(value) ?? []
      case "NSpid": innermost = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).last.flatMap { Int32($0) }
      case "Pid": if innermost == nil { innermost = Int32(value) }
      default: break
      }
    }
    guard let caught, let ignored, let innermost else { return nil }
    return SignalDisposition(caught: caught, ignored: ignored, innermostPid: innermost, blocked: blocked)
  }

  /// Whether the process is the init of its (innermost) pid namespace.
  public var isNamespaceInit: Bool { innermostPid == 1 }

  /// Whether the kernel discards `signal` sent to this process from an ancestor pid namespace
  /// (the plugin and the supervisor are in the host's): only for a namespace init that neither
  /// handles nor blocks it.
  public func discards(_ signal: Int32) -> Bool {
    guard isNamespaceInit else { return false }
    if signal == SIGKILL || signal == SIGSTOP { return false }
    return !caught.contains(signal) && !blocked.contains(signal)
  }

  /// A hexadecimal signal mask (bit n-1 = signal n) as a set of signal numbers.
  static func mask(_ hex: String) -> Set<Int32>? {
    guard let bits = UInt64(hex, radix: 16) else { return nil }
    var result = Set<Int32>()
    for bit in 0..<64 where bits & (UInt64(1) << UInt64(bit)) != 0 { result.insert(Int32(bit + 1)) }
    return result
  }
}
