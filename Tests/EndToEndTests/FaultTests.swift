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
  }
}
