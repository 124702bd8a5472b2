import Foundation
import MiloSupervisor
import MiloSys
import NomadPlugin

extension MiloDriver {
  /// `TaskStats`: one sample from the container's cgroup at once, then one every `interval`
  /// (a fixed rate: the interval is measured from sample to sample, not from send to sample).
  /// The stream ends normally when the task exits or its cgroup is gone, and returns quietly
  /// when the caller goes away (the RPC is cancelled).
  public func taskStats(
    id: String, interval: Duration, _ send: @Sendable (TaskStats) async throws -> Void
  ) async throws {
    let task = try await task(id)
    let reader = runtime.stats(task.state, cgroup: report.cgroup)
    var builder = TaskStatsBuilder(taskID: id, totalComputeMHz: Self.nodeComputeMHz)
    let period = Self.statsPeriod(interval)
    var next = ContinuousClock.now
    while !Task.isCancelled, await task.isRunning {
      guard let sample = reader.sample() else { return }
      do {
        try await send(builder.build(sample, now: Posix.monotonicNanos()))
      } catch {
        if Task.isCancelled { return }
        throw error
      }
      next = next.advanced(by: period)
      let now = ContinuousClock.now
      if next < now { next = now }  // fell behind (slow reader): skip, never burst
      // Sleep until the next tick; the task's exit or the caller's cancellation wakes it sooner.
      if await task.wait(until: next) { return }
    }
  }

  /// The sampling period for a requested interval: Nomad's default (1 s) for none, at least 10 ms.
  static func statsPeriod(_ interval: Duration) -> Duration {
    interval > .zero ? max(interval, .milliseconds(10)) : .seconds(1)
  }

  static let nodeComputeMHz = TaskStatsBuilder.nodeComputeMHz()
}
