import Foundation
import NomadE2E
import Testing

extension EndToEnd {
  /// Faults an operator meets: the plugin killed, the client restarted under running tasks.
  @Suite struct Faults {
    @Test("a numbered stream loses and duplicates no line through plugin kill -9 and a client restart")
    func logsSurvivePluginKillAndClientRestart() async throws {
      let fixture = try E2E.fixture
      let cluster = fixture.cluster
      let lines = 3000
      try await cluster.run(fixture.job("numbered", ["numbered", "\(lines)", "5000"], type: "batch"))
      let alloc = try await cluster.firstAllocation(of: "numbered")
      _ = try await fixture.waitForLogs(alloc, timeout: 15, "the first numbered lines") {
        $0.count > 1000
      }

      let plugins = cluster.pluginPIDs()
      #expect(plugins.count == 1, "plugin processes: \(plugins)")
      for pid in plugins { kill(pid, SIGKILL) }
      try await Task.sleep(for: .seconds(3))
      try await cluster.restartClient()

      let state = try await fixture.waitForDead(alloc, timeout: 120)
      #expect(!state.failed, "events: \(state.events)")
      #expect(state.restarts == 0)
      let text = String(decoding: try await cluster.api.logs(alloc: alloc, task: "app"), as: UTF8.self)
      let expected = (1...lines).map { String(format: "line %07d\n", $0) }.joined()
      let got = text.split(separator: "\n").map(String.init)
      let numbers = got.compactMap { Int($0.dropFirst(5)) }
      let missing = Set(1...lines).subtracting(numbers).count
      let duplicated = numbers.count - Set(numbers).count
      #expect(missing == 0 && duplicated == 0, "missing \(missing), duplicated \(duplicated)")
      #expect(text == expected)
      #expect(!cluster.pluginPIDs().isEmpty, "the client relaunched the plugin")
    }

    /// Nomad's logmon holds what it read for up to 64 KiB or 100 ms before its files get it, and
    /// `kill -9` discards that. The supervisor finds where the files end in what it delivered and
    /// sends the rest again, once.
    @Test("20 kill -9 of the task's logmon, each with a client restart: no line lost or duplicated")
    func logsSurviveLogmonKills() async throws {
      let fixture = try E2E.fixture
      let cluster = fixture.cluster
      let lines = 40_000  // one every 5 ms: about 200 s, longer than 20 rounds take
      try await cluster.run(fixture.job("logmon-kills", ["numbered", "\(lines)", "5000"], type: "batch"))
      let alloc = try await cluster.firstAllocation(of: "logmon-kills")
      _ = try await fixture.waitForLogs(alloc, timeout: 15, "the first numbered lines") { $0.count > 1000 }

      var killed = 0
      for _ in 0..<20 {
        // The task's logmon: the `nomad logmon` holding this allocation's stdout FIFO open.
        let logmons = ProcessTable.pids { args in args.count > 1 && args[1] == "logmon" }.filter { pid in
          let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
          return fds.contains { fd in
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)")) ?? ""
            return target.contains(alloc) && target.hasSuffix(".app.stdout.fifo")
          }
        }
        guard let logmon = logmons.first else { break }  // the stream ended: no logmon left
        kill(logmon, SIGKILL)
        killed += 1
        try await Task.sleep(for: .milliseconds(500))
        try await cluster.restartClient()
        try await Task.sleep(for: .seconds(1))
      }
      print("logmon-kills: \(killed) logmons killed")
      #expect(killed == 20, "the stream ended before 20 logmon kills")

      let state = try await fixture.waitForDead(alloc, timeout: 300)
      #expect(!state.failed, "events: \(state.events)")
      let text = String(decoding: try await cluster.api.logs(alloc: alloc, task: "app"), as: UTF8.self)
      let numbers = text.split(separator: "\n").compactMap { Int($0.dropFirst(5)) }
      let missing = Set(1...lines).subtracting(numbers).count
      let duplicated = numbers.count - Set(numbers).count
      print("logmon-kills: \(numbers.count) lines read back, missing \(missing), duplicated \(duplicated)")
      #expect(missing == 0 && duplicated == 0, "missing \(missing), duplicated \(duplicated)")
      #expect(!text.contains("[milo]"), "no marker: every recovery was decided")
      #expect(text == (1...lines).map { String(format: "line %07d\n", $0) }.joined())
    }
  }
}
