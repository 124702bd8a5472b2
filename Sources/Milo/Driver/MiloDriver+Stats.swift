import Foundation
import MiloSupervisor
import NomadPlugin

extension MiloDriver {
  public func taskStats(
    id: String, interval: Duration, _ send: @Sendable (Proto.TaskStats) async throws -> Void
  ) async throws {
    let task = try await task(id)
    let reader = CgroupStats(mode: report.cgroup, path: "/milo/" + task.state.containerID)
    var builder = TaskStatsBuilder(taskID: id, totalComputeMHz: Self.nodeComputeMHz)
    let period = interval > .zero ? interval : .seconds(1)
    while !Task.isCancelled, await task.isRunning {
      guard let sample = reader.sample() else { return }
      try await send(builder.build(sample, now: Posix.monotonicNanos()))
      try await Task.sleep(for: period)
    }
  }

  static let nodeComputeMHz = TaskStatsBuilder.nodeComputeMHz()
}
