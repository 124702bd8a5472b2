import MiloSupervisor
import MiloSys

/// One lock per container id, for the steps that create or remove a container and its state.
///
/// A task's container id is per allocation and task name, so a new start of the task (Nomad's
/// restart, or a StartTask repeated after a plugin crash) and the DestroyTask of the earlier
/// start name the same container and state dir. Without this lock the destroy could read the
/// ownership of the state dir before the new start records it, then delete what the start built.
/// Around a plugin restart Nomad runs two plugin instances, so the lock is also taken across
/// processes (`MiloDriver.withContainerLock`).
actor ContainerLocks {
  private var held: Set<String> = []
  private var waiters: [String: [CheckedContinuation<Void, Never>]] = [:]

  /// Runs `body` while holding the lock of `containerID`; waits (in order) for earlier holders.
  nonisolated func withLock<T: Sendable>(
    _ containerID: String, _ body: @Sendable () async throws -> T
  ) async throws -> T {
    await lock(containerID)
    do {
      let result = try await body()
      await unlock(containerID)
      return result
    } catch {
      await unlock(containerID)
      throw error
    }
  }

  private func lock(_ containerID: String) async {
    if held.insert(containerID).inserted { return }
    await withCheckedContinuation { waiters[containerID, default: []].append($0) }
  }

  private func unlock(_ containerID: String) {
    guard var queue = waiters[containerID], !queue.isEmpty else {
      held.remove(containerID)
      return
    }
    let next = queue.removeFirst()
    waiters[containerID] = queue.isEmpty ? nil : queue
    next.resume()  // the lock passes to the next waiter
  }
}

extension MiloDriver {
  /// Runs `body` holding the lock of `paths`' container id: in this process, then across plugin
  /// instances through the runtime's lock file.
  func withContainerLock<T: Sendable>(
    _ paths: TaskPaths, _ body: @Sendable () async throws -> T
  ) async throws -> T {
    try await containerLocks.withLock(paths.containerID) {
      var lock: FileLock?
      do {
        lock = try await self.runtime.lockAcrossInstances(paths)
      } catch {
        // Go on without it: this instance's own steps are still serialised, and a start that
        // cannot write the state dir fails on its own with a clearer error.
        self.logger.warning(
          "cannot lock container \(paths.containerID) against other plugin instances: \(error)",
          metadata: ["lock_file": "\(paths.lockFile)"])
      }
      defer { lock?.release() }
      return try await body()
    }
  }
}
