import Synchronization

/// Runs actions when the caller of a long-running driver call goes away (its task is cancelled;
/// the NomadPlugin layer turns a cancelled or dropped RPC into that) — actions registered only
/// once there is something to undo, such as killing an exec'd command.
final class CancellationFlag: Sendable {
  /// nil once cancelled; until then, the actions to run.
  private let actions = Mutex<[@Sendable () -> Void]?>([])

  /// Marks the call cancelled and runs the registered actions.
  func set() {
    let pending = actions.withLock { actions in
      defer { actions = nil }
      return actions ?? []
    }
    pending.forEach { $0() }
  }

  /// Runs `action` when the call is cancelled (at once if it already is).
  func onCancel(_ action: @escaping @Sendable () -> Void) {
    let now = actions.withLock { actions -> Bool in
      guard actions != nil else { return true }
      actions?.append(action)
      return false
    }
    if now { action() }
  }
}
