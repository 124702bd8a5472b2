import Foundation
import NomadE2E
import Testing

extension EndToEnd {
  /// The scenario a new user tries first: a JAR from an HTTP server, its logs live, a clean stop.
  @Suite struct SeedScenario {
    @Test("job run: first line within 5 s, alloc logs -f live every 2 s, job stop: dead, not failed, within 5 s")
    func seedScenario() async throws {
      let fixture = try E2E.fixture
      let cluster = fixture.cluster
      let submitted = ContinuousClock.now
      try await cluster.run(fixture.job("seed", ["serve", "2000"]))
      let alloc = try await cluster.firstAllocation(of: "seed")
      _ = try await fixture.waitForLogs(alloc, timeout: 5, "the first log line") {
        String(decoding: $0, as: UTF8.self).contains("Starting application...\n")
      }
      let firstLine = ContinuousClock.now - submitted
      print("seed: job run -> first log line in \(firstLine)")

      // `nomad alloc logs -f`, as a user runs it: every new line shows up within ~2 s.
      let followed = cluster.root + "/seed-follow.out"
      let follow = try ChildProcess(
        [cluster.nomad, "alloc", "logs", "-f", alloc, "app"],
        environment: ["NOMAD_ADDR": cluster.api.address], stdout: followed, stderr: followed + ".err")
      var arrivals: [ContinuousClock.Instant] = []
      var seen = 0
      let watchUntil = ContinuousClock.now + .seconds(9)
      while ContinuousClock.now < watchUntil {
        let text = (try? String(contentsOfFile: followed, encoding: .utf8)) ?? ""
        let count = text.components(separatedBy: "Processing...\n").count - 1
        if count > seen {
          arrivals.append(ContinuousClock.now)
          seen = count
        }
        try await Task.sleep(for: .milliseconds(50))
      }
      await follow.stop()
      #expect(seen >= 3, "alloc logs -f showed \(seen) Processing lines in 9 s")
      for (earlier, later) in zip(arrivals, arrivals.dropFirst()) {
        #expect(later - earlier < .milliseconds(2600), "a gap of \(later - earlier) between lines")
      }

      let stopping = ContinuousClock.now
      _ = try await cluster.cli(["job", "stop", "-detach", "seed"])
      let state = try await fixture.waitForDead(alloc, timeout: 5)
      print("seed: job stop -> dead in \(ContinuousClock.now - stopping)")
      #expect(!state.failed, "events: \(state.events)")
      let allocation = try await cluster.api.allocation(alloc)
      #expect(allocation.clientStatus == "complete")
      let logs = try await cluster.api.logs(alloc: alloc, task: "app")
      #expect(String(decoding: logs, as: UTF8.self).hasSuffix("Shutting down\n"))
    }
  }
}
