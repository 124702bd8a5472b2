import MiloSys

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// What a relay sends again when a new log reader attaches after the previous one vanished.
///
/// A logmon killed with SIGKILL loses what it had read but not yet written to its files (its
/// rotator buffers up to 64 KiB or 100 ms). The relay knows what it delivered (`history`), and
/// the files hold what reached disk: where the newest file's end sits in the history, the bytes
/// after it are the lost ones. That is decided only when the file's end matches exactly one
/// place; otherwise (the file was rotated away, truncated, or ends with output that repeats)
/// nothing is sent again and a marker line says so. Never a guess, so never a duplicate.
public enum ReaderRecovery {
  public enum Outcome: Equatable, Sendable {
    /// Send the last `n` delivered bytes again (0: the files hold everything).
    case resend(Int)
    /// Cannot tell safely; the reason goes into a marker line.
    case undecidable(String)
  }

  /// Tail lengths tried in turn, until the file's end matches one place only.
  static let tailLengths = [256, 4096, 65536]
  /// The most a logmon holds unwritten: its rotator's 64 KiB buffer and a 32 KiB read.
  public static let maxReaderHold = 96 << 10

  /// Decides from the delivered `history` (oldest first) and `diskTail`, the last bytes of the
  /// newest non-empty log file (as many as the history holds, or the whole file; empty when no
  /// file has content; nil when the reader is not Nomad's logmon, whose files cannot be found:
  /// then nothing is resent, as before this recovery existed).
  ///
  /// A match is trusted only when every place the files could end was compared: with the whole
  /// stream in `history` (`fromStart`) that is every place; otherwise the files' end lies within
  /// the last `maxReaderHold` bytes, so the compared tail must fit before each of those places.
  public static func decide(history: [UInt8], diskTail: [UInt8]?, fromStart: Bool) -> Outcome {
    guard !history.isEmpty, let diskTail else { return .resend(0) }
    guard !diskTail.isEmpty else { return .undecidable("none of its log files has content") }
    let longest = min(diskTail.count, fromStart ? history.count : history.count - maxReaderHold)
    guard longest > 0 else { return .undecidable("too little of what was sent is kept to tell") }
    let lengths = tailLengths.filter { $0 < longest } + [longest]
    for length in lengths {
      let ends = matchEnds(of: Array(diskTail.suffix(length)), in: history, limit: 2)
      if ends.count == 1, let end = ends.first { return .resend(history.count - end) }
      if ends.isEmpty {
        return .undecidable(
          "the end of the newest log file is not in the last \(history.count) bytes sent"
            + " (rotated away, truncated, or written by something else)")
      }
    }
    return .undecidable(
      "the end of the newest log file matches more than one place in what was sent (repeating output)")
  }

  /// Where `needle` ends in `haystack`, up to `limit` places.
  static func matchEnds(of needle: [UInt8], in haystack: [UInt8], limit: Int) -> [Int] {
    guard !needle.isEmpty, needle.count <= haystack.count else { return [] }
    var ends: [Int] = []
    haystack.withUnsafeBytes { hay in
      needle.withUnsafeBytes { pin in
        var from = 0
        while ends.count < limit, from + pin.count <= hay.count,
          let offset = Posix.firstOffset(of: pin, in: UnsafeRawBufferPointer(rebasing: hay[from...]))
        {
          let start = from + offset
          ends.append(start + pin.count)
          from = start + 1
        }
      }
    }
    return ends
  }

  /// The last `limit` bytes of the newest non-empty rotated log file of the FIFO at `fifoPath`:
  /// Nomad's logmon writes `<dir>/.<task>.<stream>.fifo` into `<dir>/<task>.<stream>.<index>`.
  /// Empty when no file has content; nil when the FIFO is not named as Nomad names it.
  public static func newestLogTail(fifoPath: String, limit: Int) -> [UInt8]? {
    guard let slash = fifoPath.lastIndex(of: "/") else { return nil }
    let dir = String(fifoPath[..<slash])
    let name = fifoPath[fifoPath.index(after: slash)...]
    guard name.hasPrefix("."), name.hasSuffix(".fifo") else { return nil }
    let prefix = String(name.dropFirst().dropLast(5)) + "."
    var indexes: [Int] = []
    if let directory = opendir(dir) {
      while let entry = readdir(directory) {
        let file = withUnsafeBytes(of: entry.pointee.d_name) { raw in
          String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if file.hasPrefix(prefix), let index = Int(file.dropFirst(prefix.count)) { indexes.append(index) }
      }
      closedir(directory)
    }
    for index in indexes.sorted(by: >) {
      if let tail = fileTail(dir + "/" + prefix + String(index), limit: limit), !tail.isEmpty { return tail }
    }
    return []
  }

  static func fileTail(_ path: String, limit: Int) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    let size = lseek(fd, 0, SEEK_END)
    guard size >= 0 else { return nil }
    let length = Int(min(Int64(size), Int64(limit)))
    var result = [UInt8](repeating: 0, count: length)
    var done = 0
    while done < length {
      let offset = off_t(Int64(size) - Int64(length) + Int64(done))
      let n = result.withUnsafeMutableBytes { raw -> Int in
        guard let base = raw.baseAddress else { return 0 }
        return pread(fd, base + done, length - done, offset)
      }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      done += n
    }
    return Array(result.prefix(done))
  }
}
