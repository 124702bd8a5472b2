import Foundation
import Testing

@testable import NomadHost

@Suite struct AllocLogReaderTests {
  /// web.stdout.0 = "aaaa\n", .1 = "bbbb\n", .2 = "cccc\n".
  private func threeFiles() -> TempDir {
    let dir = TempDir()
    dir.write("web.stdout.0", "aaaa\n")
    dir.write("web.stdout.1", "bbbb\n")
    dir.write("web.stdout.2", "cccc\n")
    dir.write("web.stderr.0", "err\n")
    dir.write(".web.stdout.fifo", "")
    return dir
  }

  @Test func readsAllFilesFromTheStart() async throws {
    let dir = threeFiles()
    let out = try await collect(AllocLogReader.bytes(LogStreamRequest(logDir: dir.path, task: "web")))
    #expect(String(decoding: out, as: UTF8.self) == "aaaa\nbbbb\ncccc\n")
    let err = try await collect(AllocLogReader.bytes(LogStreamRequest(logDir: dir.path, task: "web", type: .stderr)))
    #expect(String(decoding: err, as: UTF8.self) == "err\n")
  }

  @Test func offsetsFromStartAndEndWalkAcrossFiles() async throws {
    let dir = threeFiles()
    let fromStart = try await collect(
      AllocLogReader.bytes(LogStreamRequest(logDir: dir.path, task: "web", origin: .start, offset: 7)))
    #expect(String(decoding: fromStart, as: UTF8.self) == "bb\ncccc\n")
    let fromEnd = try await collect(
      AllocLogReader.bytes(LogStreamRequest(logDir: dir.path, task: "web", origin: .end, offset: 7)))
    #expect(String(decoding: fromEnd, as: UTF8.self) == "b\ncccc\n")
    let tooFar = try await collect(
      AllocLogReader.bytes(LogStreamRequest(logDir: dir.path, task: "web", origin: .end, offset: 1000)))
    #expect(String(decoding: tooFar, as: UTF8.self) == "aaaa\nbbbb\ncccc\n")
  }

  @Test func findClosestMatchesNomad() throws {
    let entries = [
      AllocLogReader.Entry(name: "t.stdout.0", index: 0, size: 10),
      AllocLogReader.Entry(name: "t.stdout.3", index: 3, size: 20),
      AllocLogReader.Entry(name: "t.stdout.4", index: 4, size: 5),
    ]
    func closest(_ index: Int64, _ offset: Int64) throws -> (Int64, Int64) {
      let (entry, off) = try AllocLogReader.findClosest(
        entries, desiredIndex: index, desiredOffset: offset, task: "t", type: .stdout)
      return (entry.index, off)
    }
    #expect(try closest(0, 0) == (0, 0))
    #expect(try closest(1, 0) == (3, 0))
    #expect(try closest(Int64.max, 0) == (4, 0))
    #expect(try closest(Int64.max, -3) == (4, 2))
    #expect(try closest(Int64.max, -8) == (3, 17))
    #expect(try closest(Int64.max, -100) == (0, 0))
    #expect(try closest(0, 15) == (3, 5))
    #expect(try closest(0, 100) == (4, 5))
    #expect(throws: LogReadError.self) {
      try AllocLogReader.findClosest([], desiredIndex: 0, desiredOffset: 0, task: "t", type: .stdout)
    }
  }

  @Test func errorsUseNomadTexts() async throws {
    let dir = TempDir()
    let read = { try await collect(AllocLogReader.bytes(LogStreamRequest(logDir: dir.path, task: "web"))) }
    let missing = await caught(LogReadError.self, read)
    #expect(missing?.description == "log entry for task \"web\" and log type \"stdout\" not found")
    dir.write("web.stdout.abc", "")
    let badIndex = await caught(LogReadError.self, read)
    #expect(badIndex?.description.hasPrefix("failed to convert \"abc\" to a log index") == true)
  }

  @Test func followsGrowthAndRotation() async throws {
    let dir = TempDir()
    dir.write("web.stdout.0", "one\n")
    let request = LogStreamRequest(
      logDir: dir.path, task: "web", follow: true, pollInterval: .milliseconds(20))
    let collected = Collected()
    let reader = Task {
      for try await chunk in AllocLogReader.bytes(request) { await collected.append(chunk) }
    }
    #expect(await eventually { await collected.text == "one\n" })
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dir.file("web.stdout.0")))
    handle.seekToEndOfFile()
    handle.write(Data("two\n".utf8))
    #expect(await eventually { await collected.text == "one\ntwo\n" })
    // Rotation: a last write to .0, then .1 appears.
    handle.write(Data("three\n".utf8))
    try handle.close()
    dir.write("web.stdout.1", "four\n")
    #expect(await eventually { await collected.text == "one\ntwo\nthree\nfour\n" })
    // The purge deletes .0 while we follow .1.
    try FileManager.default.removeItem(atPath: dir.file("web.stdout.0"))
    dir.write("web.stdout.2", "five\n")
    #expect(await eventually { await collected.text == "one\ntwo\nthree\nfour\nfive\n" })
    reader.cancel()
  }

  /// `origin=end, offset=0` (what `nomad alloc logs -f` asks for) resolves, in `findClosest`, to
  /// offset 0 *of the last file*: the current file is shown from its start, then followed.
  @Test func followFromEndStartsAtTheLastFile() async throws {
    let dir = TempDir()
    dir.write("web.stdout.0", "older\n")
    dir.write("web.stdout.1", "old\n")
    let request = LogStreamRequest(
      logDir: dir.path, task: "web", origin: .end, offset: 0, follow: true, pollInterval: .milliseconds(20))
    let collected = Collected()
    let reader = Task {
      for try await chunk in AllocLogReader.bytes(request) { await collected.append(chunk) }
    }
    try await Task.sleep(for: .milliseconds(100))
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dir.file("web.stdout.1")))
    handle.seekToEndOfFile()
    handle.write(Data("new\n".utf8))
    try handle.close()
    #expect(await eventually { await collected.text == "old\nnew\n" })
    reader.cancel()
  }

  @Test func truncationRestartsTheFile() async throws {
    let dir = TempDir()
    dir.write("web.stdout.0", "0123456789\n")
    let request = LogStreamRequest(logDir: dir.path, task: "web", follow: true, pollInterval: .milliseconds(20))
    let frames = FrameBox()
    let reader = Task {
      for try await frame in AllocLogReader.frames(request) { await frames.append(frame) }
    }
    #expect(await eventually { await frames.text == "0123456789\n" })
    dir.write("web.stdout.0", "ab\n")
    #expect(await eventually { await frames.text == "0123456789\nab\n" })
    #expect(await frames.events.contains("file truncated"))
    reader.cancel()
  }

  @Test func tailPlansMatchTheCLI() throws {
    #expect(throws: LogReadError.self) {
      try AllocLogsPlan.make(options: AllocLogsOptions(stdout: true, stderr: true), logDir: "/l", task: "t")
    }
    #expect(throws: LogReadError.self) {
      try AllocLogsPlan.make(options: AllocLogsOptions(tail: true, lines: 3, bytes: 10), logDir: "/l", task: "t")
    }
    let both = try AllocLogsPlan.make(options: AllocLogsOptions(follow: true), logDir: "/l", task: "t")
    guard case .both(let out, let err) = both else {
      Issue.record("expected both streams")
      return
    }
    #expect(out.origin == .end && out.offset == 0 && out.follow && err.type == .stderr)
    let tail = try AllocLogsPlan.make(options: AllocLogsOptions(tail: true), logDir: "/l", task: "t")
    #expect(tail == .single(LogStreamRequest(logDir: "/l", task: "t", origin: .end, offset: 1200), lineLimit: 10))
    let tailN = try AllocLogsPlan.make(
      options: AllocLogsOptions(stderr: true, tail: true, lines: 2), logDir: "/l", task: "t")
    #expect(
      tailN
        == .single(LogStreamRequest(logDir: "/l", task: "t", type: .stderr, origin: .end, offset: 240), lineLimit: 2))
    let tailC = try AllocLogsPlan.make(options: AllocLogsOptions(tail: true, bytes: 5), logDir: "/l", task: "t")
    #expect(tailC == .single(LogStreamRequest(logDir: "/l", task: "t", origin: .end, offset: 5), lineLimit: nil))
    // Without -tail, -n and -c are ignored.
    let plain = try AllocLogsPlan.make(options: AllocLogsOptions(lines: 3), logDir: "/l", task: "t")
    #expect(plain == .single(LogStreamRequest(logDir: "/l", task: "t"), lineLimit: nil))
  }

  @Test func tailNLinesAcrossFiles() async throws {
    let dir = TempDir()
    dir.write("web.stdout.0", "l1\nl2\nl3\n")
    dir.write("web.stdout.1", "l4\nl5\n")
    guard
      case .single(let request, let limit) = try AllocLogsPlan.make(
        options: AllocLogsOptions(tail: true, lines: 3), logDir: dir.path, task: "web")
    else { return }
    let out = try await collect(AllocLogReader.output(request, lineLimit: limit))
    #expect(String(decoding: out, as: UTF8.self) == "l3\nl4\nl5\n")
    guard
      case .single(let request2, let limit2) = try AllocLogsPlan.make(
        options: AllocLogsOptions(tail: true, bytes: 4), logDir: dir.path, task: "web")
    else { return }
    let out2 = try await collect(AllocLogReader.output(request2, lineLimit: limit2))
    #expect(String(decoding: out2, as: UTF8.self) == "\nl5\n")
  }

  @Test func lineLimiterKeepsTheLastLinesOfItsWindow() {
    var limiter = LineLimiter(lines: 2, searchLimit: 1000)
    #expect(limiter.feed(bytes("a\nb\nc\n")).isEmpty)
    #expect(String(decoding: limiter.finish(), as: UTF8.self) == "b\nc\n")
    var short = LineLimiter(lines: 5, searchLimit: 1000)
    _ = short.feed(bytes("a\nb\n"))
    #expect(String(decoding: short.finish(), as: UTF8.self) == "a\nb\n")
    var full = LineLimiter(lines: 1, searchLimit: 4)
    #expect(String(decoding: full.feed(bytes("xy\nzw\n")), as: UTF8.self) == "zw\n")
    #expect(full.feed(bytes("more")) == bytes("more"))
    var noTrailing = LineLimiter(lines: 1, searchLimit: 100)
    _ = noTrailing.feed(bytes("a\nb\nc"))
    #expect(String(decoding: noTrailing.finish(), as: UTF8.self) == "c")
  }
}

actor Collected {
  private var data: [UInt8] = []
  func append(_ chunk: [UInt8]) { data += chunk }
  var text: String { String(decoding: data, as: UTF8.self) }
}

actor FrameBox {
  private var frames: [LogFrame] = []
  func append(_ frame: LogFrame) { frames.append(frame) }
  var text: String { String(decoding: frames.flatMap(\.data), as: UTF8.self) }
  var events: [String] { frames.compactMap(\.fileEvent) }
}
