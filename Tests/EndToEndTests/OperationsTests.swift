import Foundation
import NomadE2E
import Testing

extension EndToEnd {
  /// What an operator does to a running task from the CLI, and what the web UI reads.
  @Suite struct Operations {
    @Test("alloc exec, alloc signal, alloc status -stats, and the web UI's log endpoint")
    func operateARunningTask() async throws {
      let fixture = try E2E.fixture
      let cluster = fixture.cluster
      try await cluster.run(fixture.job("ops", ["serve", "500"]))
      let alloc = try await cluster.firstAllocation(of: "ops")
      _ = try await fixture.waitForLogs(alloc, timeout: 15, "the banner") {
        String(decoding: $0, as: UTF8.self).contains("Processing...")
      }

      // exec: a command in the task's container, as the task's user.
      let exec = try await cluster.cli(
        ["alloc", "exec", "-task", "app", alloc, "/bin/sh", "-c", "echo hi from $(id -un)"])
      #expect(exec.status == 0, "\(exec.errorOutput)")
      #expect(exec.output == "hi from nobody\n", "\(exec.output)")
      let missing = try await cluster.cli(["alloc", "exec", "-task", "app", alloc, "/no/such/thing"])
      #expect(missing.status == 127, "\(missing.output) \(missing.errorOutput)")

      // What the task sees: Nomad's directories and environment.
      let view = try await cluster.cli(
        [
          "alloc", "exec", "-task", "app", alloc, "/bin/sh", "-c",
          "echo $NOMAD_TASK_DIR $NOMAD_ALLOC_DIR $NOMAD_SECRETS_DIR; ls /local; "
            + "touch /alloc/x /local/x /secrets/x /tmp/x && echo writable",
        ])
      #expect(view.output.contains("/local /alloc /secrets\n"), "\(view.output) \(view.errorOutput)")
      #expect(view.output.contains("testapp.jar"), "\(view.output)")
      #expect(view.output.hasSuffix("writable\n"), "\(view.output) \(view.errorOutput)")

      // signal: SIGQUIT makes the JVM print a thread dump into the task's stdout.
      let signal = try await cluster.cli(["alloc", "signal", "-s", "SIGQUIT", alloc, "app"])
      #expect(signal.status == 0, "\(signal.errorOutput)")
      _ = try await fixture.waitForLogs(alloc, timeout: 10, "a thread dump") {
        String(decoding: $0, as: UTF8.self).contains("Full thread dump")
      }

      // stats: memory and CPU from the container's cgroup.
      var stats = CommandResult(status: -1, stdout: Data(), stderr: Data())
      try await waitFor("alloc status -stats to show memory", timeout: 15, every: .seconds(1)) {
        stats = try await cluster.cli(["alloc", "status", "-stats", alloc])
        return stats.output.contains("Memory Stats") && stats.output.contains("RSS")
      }
      #expect(stats.output.contains("CPU Stats"), "\(stats.output)")

      // The web UI reads logs as JSON frames with base64 data; the last 64 bytes via origin=end.
      let framed = try await cluster.api.get(
        "/v1/client/fs/logs/\(alloc)?task=app&type=stdout&origin=start&offset=0")
      let plain = try await cluster.api.logs(alloc: alloc, task: "app")
      let decoded = LogFrames.data(framed)
      #expect(!decoded.isEmpty)
      #expect(plain.starts(with: decoded.prefix(100)))
      let tail = try await cluster.api.get(
        "/v1/client/fs/logs/\(alloc)?task=app&type=stdout&origin=end&offset=64&plain=true")
      #expect(tail.count == 64)
      let ui = try await cluster.api.get("/ui/")
      #expect(String(decoding: ui, as: UTF8.self).contains("<html"))

      try await cluster.stopJob("ops")
    }
  }
}

/// Decodes the stream of JSON frames (`{"Data": base64, "File": ..., "Offset": ...}`) that
/// Nomad's logs endpoint sends without `plain=true`.
enum LogFrames {
  static func data(_ body: Data) -> Data {
    var result = Data()
    var depth = 0
    var start: Int?
    var inString = false
    var escaped = false
    let bytes = [UInt8](body)
    for (index, byte) in bytes.enumerated() {
      if inString {
        if escaped {
          escaped = false
        } else if byte == UInt8(ascii: "\\") {
          escaped = true
        } else if byte == UInt8(ascii: "\"") {
          inString = false
        }
        continue
      }
      switch byte {
      case UInt8(ascii: "\""): inString = true
      case UInt8(ascii: "{"):
        if depth == 0 { start = index }
        depth += 1
      case UInt8(ascii: "}"):
        depth -= 1
        if depth == 0, let from = start,
          let frame = try? JSONSerialization.jsonObject(with: Data(bytes[from...index])) as? [String: Any],
          let encoded = frame["Data"] as? String, let chunk = Data(base64Encoded: encoded)
        {
          result.append(chunk)
        }
      default: break
      }
    }
    return result
  }
}
