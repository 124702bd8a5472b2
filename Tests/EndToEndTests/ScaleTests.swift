import Foundation
import NomadE2E
import Testing

extension EndToEnd {
  /// Nomad's client holds every task's WaitTask and TaskStats stream on one gRPC connection.
  @Suite struct Scale {
    @Test("100 JVM tasks in one job stay running for 60 s under stats polling; job stop leaves nothing")
    func hundredTasks() async throws {
      let fixture = try E2E.fixture
      let cluster = fixture.cluster
      let count = 100
      var job = fixture.job("hundred", ["serve", "2000"])
      job.count = count
      job.jvmOptions = ["-Xmx16m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss256k"]
      job.memory = 96
      job.cpu = 20
      // Earlier tests kill the plugin on purpose; only what the client logs from here on counts.
      let logStart = cluster.client?.logSize ?? 0
      let submitted = ContinuousClock.now
      try await cluster.run(job)
      var allocs: [Allocation] = []
      do {
        try await waitFor("\(count) running allocations", timeout: 420, every: .seconds(1)) {
          allocs = (try? await cluster.api.allocations(job: "hundred")) ?? []
          let running = allocs.filter { $0.taskStates["app"]?.state == "running" }
          let broken = allocs.filter { ["failed", "lost"].contains($0.clientStatus) }
          if !broken.isEmpty {
            throw TimeoutError(
              what: "no failures, but \(broken.count) failed: \(broken.first?.taskStates["app"]?.events ?? [])",
              seconds: 0)
          }
          return running.count == count
        }
      } catch {
        Issue.record("\(error)\n\(cluster.diagnostics())")
        try await cluster.stopJob("hundred", timeout: 180)
        return
      }
      print("hundred: \(count) tasks running \(ContinuousClock.now - submitted) after job run")

      // 60 s of `nomad alloc status -stats`, a few allocations a round, as a dashboard polls.
      let ids = allocs.map(\.id)
      let until = ContinuousClock.now + .seconds(60)
      var polled = 0
      var round = 0
      while ContinuousClock.now < until {
        for id in ids[(round * 5 % count)..<min(count, round * 5 % count + 5)] {
          let stats = try await cluster.cli(["alloc", "status", "-stats", id])
          #expect(stats.status == 0 && stats.output.contains("Memory Stats"), "\(stats.output)")
          polled += 1
        }
        round += 1
        try await Task.sleep(for: .seconds(1))
      }
      allocs = try await cluster.api.allocations(job: "hundred")
      let notRunning = allocs.filter { $0.taskStates["app"]?.state != "running" }
      let restarted = allocs.filter { ($0.taskStates["app"]?.restarts ?? 0) > 0 }
      #expect(allocs.count == count, "\(allocs.count) allocations")
      #expect(
        notRunning.isEmpty, "\(notRunning.count) not running: \(notRunning.first?.taskStates["app"]?.events ?? [])")
      #expect(restarted.isEmpty, "\(restarted.count) restarted")
      #expect(polled > 50)
      // The driver manager's connection to milo (the plugin loader's short fingerprint launches
      // also end in "transport is closing", by design).
      let driverLines = (cluster.client?.log(since: logStart) ?? "").split(separator: "\n").filter {
        $0.contains("client.driver_mgr")
      }
      let broken = driverLines.filter {
        $0.contains("transport is closing") || $0.contains("connection is draining")
          || $0.contains("plugin process exited")
      }
      #expect(!driverLines.isEmpty, "the client's log has driver manager lines")
      #expect(broken.isEmpty, "the plugin connection broke:\n\(broken.prefix(5).joined(separator: "\n"))")

      try await cluster.stopJob("hundred", timeout: 180)
      var residue = HostResidue()
      try? await waitFor("milo to clean up", timeout: 60) {
        residue = HostResidue.scan(stateDir: cluster.stateDir)
        return residue.isEmpty
      }
      #expect(residue.isEmpty, "\(residue)")
    }
  }
}
