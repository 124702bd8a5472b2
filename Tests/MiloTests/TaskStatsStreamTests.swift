import Foundation
import MiloSupervisor
import NomadPlugin
import Synchronization
import Testing

@testable import Milo

/// `taskStats` against the fake runtime and a fake v2 cgroup: the stream's end is event-driven,
/// so it follows the task's exit (or the caller's going away) at once, not at the next tick.
extension MiloDriverLifecycleTests {
  /// What a stats stream did: samples sent, and when and how it ended.
  final class StatsCollector: Sendable {
    private let state = Mutex<(samples: Int, ended: ContinuousClock.Instant?, error: String?)>((0, nil, nil))

    var samples: Int { state.withLock { $0.samples } }
    var ended: ContinuousClock.Instant? { state.withLock { $0.ended } }
    var error: String? { state.withLock { $0.error } }

    /// Runs the stream of task `id` on `driver` until it ends.
    func collect(_ driver: MiloDriver, id: String, interval: Duration) async {
      do {
        try await driver.taskStats(id: id, interval: interval) { _ in self.state.withLock { $0.samples += 1 } }
      } catch {
        state.withLock { $0.error = "\(error)" }
      }
      state.withLock { $0.ended = .now }
    }
  }

  /// Starts a task with a cgroup the fake runtime reads (kept while `cgroups` lives), and a
  /// one-hour stats stream for it that has sent its first sample.
  func startWithHourlyStats() async throws -> (
    supervisor: FakeSupervisor, stream: Task<Void, Never>, collector: StatsCollector, cgroups: TempDir
  ) {
    let driver = driver()
    let config = try config()
    let (_, state, supervisor) = try await start(config, on: driver)
    let cgroups = TempDir("milo-stats-cgroup")
    cgroups.write(String(state.paths.cgroup.dropFirst()) + "/memory.stat", "anon 1048576\nfile 4096\n")
    runtime.readCgroups(under: cgroups.path)
    let collector = StatsCollector()
    let stream = Task { await collector.collect(driver, id: config.id, interval: .seconds(3600)) }
    try #require(await eventually { collector.samples == 1 }, "the first sample comes at once")
    return (supervisor, stream, collector, cgroups)
  }

  @Test func aStatsStreamEndsWhenTheTaskExitsNotAtItsNextTick() async throws {
    let (supervisor, stream, collector, cgroups) = try await startWithHourlyStats()
    defer { stream.cancel() }
    try await Task.sleep(for: .milliseconds(100))
    #expect(collector.ended == nil, "the stream waits for its next tick while the task runs")

    let exited = ContinuousClock.now
    supervisor.exit(ExitRecord(exitCode: 0))
    try #require(await eventually(timeout: .seconds(2)) { collector.ended != nil }, "the stream did not end")
    let ended = try #require(collector.ended)
    #expect(ended - exited < .seconds(1), "the stream outlived the task by \(ended - exited)")
    #expect(collector.error == nil, "the stream ends normally: \(collector.error ?? "")")
    #expect(collector.samples == 1)
    withExtendedLifetime(cgroups) {}
  }

  @Test func aStatsStreamEndsWhenTheCallerGoesAway() async throws {
    let (supervisor, stream, collector, cgroups) = try await startWithHourlyStats()

    let cancelled = ContinuousClock.now
    stream.cancel()
    try #require(await eventually(timeout: .seconds(2)) { collector.ended != nil }, "the stream did not end")
    let ended = try #require(collector.ended)
    #expect(ended - cancelled < .seconds(1), "the stream outlived its caller by \(ended - cancelled)")
    #expect(collector.error == nil, "a caller that goes away gets no error: \(collector.error ?? "")")
    #expect(supervisor.isRunning)
    withExtendedLifetime(cgroups) {}
  }
}
