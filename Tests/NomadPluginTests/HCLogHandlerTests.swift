import Foundation
import Logging
import NomadPlugin
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite struct HCLogHandlerTests {
  @Test func rendersExactJSON() {
    let line = HCLogHandler.render(
      level: .info, message: "plugin started", module: "milo", metadata: [:],
      timestamp: "2024-05-01T12:34:56.123456Z")
    #expect(
      line
        == "{\"@level\":\"info\",\"@message\":\"plugin started\",\"@module\":\"milo\",\"@timestamp\":\"2024-05-01T12:34:56.123456Z\"}\n"
    )
  }

  @Test func metadataIsSortedAndAtKeysAreSkipped() {
    let line = HCLogHandler.render(
      level: .warning, message: "m", module: "milo.driver",
      metadata: ["task_id": "abc", "alloc": "1", "@level": "forged", "count": .stringConvertible(42)],
      timestamp: "T")
    #expect(
      line
        == "{\"@level\":\"warn\",\"@message\":\"m\",\"@module\":\"milo.driver\",\"@timestamp\":\"T\","
        + "\"alloc\":\"1\",\"count\":\"42\",\"task_id\":\"abc\"}\n")
  }

  @Test func escaping() {
    let line = HCLogHandler.render(
      level: .error, message: "a \"quoted\" \\ path\nline2\r\tend\u{01}\u{1F}é😀", module: "m\"x",
      metadata: ["k\n": "v\u{08}"], timestamp: "T")
    #expect(
      line
        == "{\"@level\":\"error\",\"@message\":\"a \\\"quoted\\\" \\\\ path\\nline2\\r\\tend\\u0001\\u001fé😀\","
        + "\"@module\":\"m\\\"x\",\"@timestamp\":\"T\",\"k\\n\":\"v\\u0008\"}\n")
    // The line is valid JSON that decodes to the original strings.
    let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
    #expect(object?["@message"] == "a \"quoted\" \\ path\nline2\r\tend\u{01}\u{1F}é😀")
    #expect(object?["@module"] == "m\"x")
    #expect(object?["k\n"] == "v\u{08}")
  }

  @Test(arguments: [
    (Logger.Level.trace, "trace"), (.debug, "debug"), (.info, "info"), (.notice, "info"), (.warning, "warn"),
    (.error, "error"), (.critical, "error"),
  ])
  func levelMapping(level: Logger.Level, name: String) {
    #expect(HCLogHandler.hclogLevel(level) == name)
    #expect(
      HCLogHandler.render(level: level, message: "", module: "", metadata: [:], timestamp: "")
        .hasPrefix("{\"@level\":\"\(name)\","))
  }

  @Test func timestampUsesGoLayout() throws {
    let stamp = HCLogHandler.timestamp()
    let regex = try Regex(#"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$"#)
    #expect(stamp.wholeMatch(of: regex) != nil)
    // It is the current UTC time (within a minute).
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
    let date = try #require(formatter.date(from: String(stamp.prefix(19))))
    #expect(abs(date.timeIntervalSinceNow) < 60)
  }

  @Test func loggerWritesOneLinePerEventToTheDescriptor() throws {
    var fds: [Int32] = [0, 0]
    #expect(pipe(&fds) == 0)
    defer {
      close(fds[0])
      close(fds[1])
    }
    let handler = HCLogHandler(module: "milo", level: .debug, fd: fds[1])
    var logger = Logger(label: "test") { _ in handler }
    logger[metadataKey: "plugin"] = "milo"
    logger.trace("hidden")
    logger.debug("visible", metadata: ["task": "t1", "plugin": "override"])
    logger.error("bad")
    var buffer = [UInt8](repeating: 0, count: 4096)
    let n = read(fds[0], &buffer, buffer.count)
    let lines = String(decoding: buffer[0..<max(n, 0)], as: UTF8.self).split(separator: "\n")
    #expect(lines.count == 2)
    let first = try #require(
      try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: String])
    #expect(first["@level"] == "debug")
    #expect(first["@message"] == "visible")
    #expect(first["@module"] == "milo")
    #expect(first["plugin"] == "override")
    #expect(first["task"] == "t1")
    let second = try #require(
      try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: String])
    #expect(second["@level"] == "error")
    #expect(second["plugin"] == "milo")
    #expect(second["task"] == nil)
  }

  @Test func handlerDefaults() {
    var handler = HCLogHandler(module: "m")
    #expect(handler.logLevel == .info)
    #expect(handler.metadata.isEmpty)
    handler[metadataKey: "k"] = "v"
    #expect(handler[metadataKey: "k"] == "v")
  }
}
