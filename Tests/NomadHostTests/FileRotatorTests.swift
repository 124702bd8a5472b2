import Foundation
import Testing

@testable import NomadHost

@Suite struct FileRotatorTests {
  static let mib: Int64 = 1024 * 1024

  @Test func writesAreBufferedUntilFlushAndLostOnAbandon() throws {
    let dir = TempDir()
    let rotator = try FileRotator(
      directory: dir.path, baseName: "web.stdout", maxFiles: 10, fileSize: Self.mib, flushInterval: nil)
    try rotator.write(bytes("hello\n"))
    #expect(dir.read("web.stdout.0").isEmpty)
    #expect(rotator.bufferedCount == 6)
    rotator.flush()
    #expect(dir.readText("web.stdout.0") == "hello\n")
    try rotator.write(bytes("lost\n"))
    rotator.abandon()
    #expect(dir.readText("web.stdout.0") == "hello\n")
    #expect(throws: (any Error).self) { try rotator.write(bytes("x")) }
  }

  @Test func periodicFlushWritesWithin100ms() async throws {
    let dir = TempDir()
    let rotator = try FileRotator(directory: dir.path, baseName: "web.stdout", maxFiles: 10, fileSize: Self.mib)
    try rotator.write(bytes("tick\n"))
    #expect(await eventually(timeout: .seconds(2)) { dir.readText("web.stdout.0") == "tick\n" })
    rotator.close()
  }

  @Test func largeWriteWithEmptyBufferGoesStraightThrough() throws {
    let dir = TempDir()
    let rotator = try FileRotator(
      directory: dir.path, baseName: "t.stdout", maxFiles: 10, fileSize: Self.mib, flushInterval: nil)
    let big = [UInt8](repeating: UInt8(ascii: "a"), count: 100_000) + [10]
    try rotator.write(big)
    // bufio.Writer writes a chunk larger than its free space directly when empty.
    #expect(dir.read("t.stdout.0").count == 100_001)
    #expect(rotator.bufferedCount == 0)
    rotator.close()
  }

  @Test func continuesTheHighestExistingFile() throws {
    let dir = TempDir()
    dir.write("web.stdout.2", "two\n")
    dir.write("web.stdout.5", "old\n")
    dir.write("web.stdout.x", "ignored\n")
    dir.makeDirectory("web.stdout.9")
    let rotator = try FileRotator(
      directory: dir.path, baseName: "web.stdout", maxFiles: 10, fileSize: Self.mib, flushInterval: nil)
    #expect(rotator.currentIndex == 5)
    try rotator.write(bytes("new\n"))
    rotator.close()
    #expect(dir.readText("web.stdout.5") == "old\nnew\n")
  }

  @Test func cutsAtNewlineNearTheEndAndCountsCumulatively() throws {
    let dir = TempDir()
    let size = Self.mib
    dir.write("web.stdout.0", [UInt8](repeating: UInt8(ascii: "p"), count: Int(size) - 100))
    let rotator = try FileRotator(
      directory: dir.path, baseName: "web.stdout", maxFiles: 10, fileSize: size, flushInterval: nil)
    let first = String(repeating: "x", count: 50) + "\n"
    let second = String(repeating: "y", count: 200) + "\n"
    try rotator.write(bytes(first + second))
    // The first line fits in the 100 bytes left; the second does not, so the file rotates.
    #expect(rotator.currentIndex == 1)
    // Nomad adds the cumulative count (51 + 252), so file 1 is believed to hold 252 bytes, not
    // 201: a line that would just fit in the real free space rotates again.
    let line = [UInt8](repeating: UInt8(ascii: "z"), count: 1_048_349) + [10]
    try rotator.write(line)
    rotator.close()
    #expect(dir.read("web.stdout.0").count == Int(size) - 100 + 51)
    #expect(dir.readText("web.stdout.1") == second)
    #expect(dir.read("web.stdout.2") == line)
  }

  @Test func splitsLinesLongerThanTheWindowWhenNoNewline() throws {
    let dir = TempDir()
    let size = Self.mib
    dir.write("t.stdout.0", [UInt8](repeating: UInt8(ascii: "p"), count: Int(size) - 10))
    let rotator = try FileRotator(
      directory: dir.path, baseName: "t.stdout", maxFiles: 10, fileSize: size, flushInterval: nil)
    // No newline and it fits in the next file: rotate without splitting.
    try rotator.write([UInt8](repeating: UInt8(ascii: "q"), count: 1000))
    rotator.close()
    #expect(dir.read("t.stdout.0").count == Int(size) - 10)
    #expect(dir.read("t.stdout.1").count == 1000)
  }

  @Test func rotatesThirtyTwoKiBChunksOfLinesKeepingLinesWhole() throws {
    let dir = TempDir()
    let rotator = try FileRotator(
      directory: dir.path, baseName: "t.stdout", maxFiles: 100, fileSize: Self.mib, flushInterval: nil)
    var input: [UInt8] = []
    for i in 0..<30_000 {
      input += bytes("line \(i) " + String(repeating: "-", count: 90) + "\n")
    }
    var offset = 0
    while offset < input.count {
      let end = min(offset + 32 * 1024, input.count)
      try rotator.write(Array(input[offset..<end]))
      offset = end
    }
    rotator.close()
    let files = dir.names().filter { $0.hasPrefix("t.stdout.") }.sorted {
      Int($0.split(separator: ".").last ?? "") ?? 0 < Int($1.split(separator: ".").last ?? "") ?? 0
    }
    #expect(files.count >= 3)
    var joined: [UInt8] = []
    for file in files {
      let content = dir.read(file)
      #expect(content.count <= Int(Self.mib))
      #expect(content.last == 10, "\(file) should end at a line boundary")
      joined += content
    }
    #expect(joined == input)
  }

  @Test func purgeKeepsTheHighestMaxFiles() throws {
    let dir = TempDir()
    let rotator = try FileRotator(
      directory: dir.path, baseName: "t.stdout", maxFiles: 2, fileSize: Self.mib, flushInterval: nil)
    let line = [UInt8](repeating: UInt8(ascii: "a"), count: Int(Self.mib) - 1) + [10]
    for _ in 0..<5 { try rotator.write(line) }
    rotator.close()
    #expect(rotator.currentIndex == 4)
    #expect(dir.names().filter { $0.hasPrefix("t.stdout.") } == ["t.stdout.3", "t.stdout.4"])
  }

  @Test func nextFileSkipsFullFiles() throws {
    let dir = TempDir()
    dir.write("t.stdout.1", [UInt8](repeating: 65, count: Int(Self.mib)))
    let rotator = try FileRotator(
      directory: dir.path, baseName: "t.stdout", maxFiles: 10, fileSize: Self.mib, flushInterval: nil)
    #expect(rotator.currentIndex == 1)
    try rotator.write(bytes("next\n"))
    rotator.close()
    #expect(rotator.currentIndex == 2)
    #expect(dir.readText("t.stdout.2") == "next\n")
  }
}
