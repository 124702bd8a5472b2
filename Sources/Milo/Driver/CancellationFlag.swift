import Synchronization

/// Set when the caller of a long-running driver call goes away (its task is cancelled; the
/// NomadPlugin layer turns a cancelled or dropped RPC into that), with actions to run then —
/// killing an exec'd command, for example. Loops poll `isSet` where an await would not notice.
final class CancellationFlag: Sendable {
  private let flag = Atomic<Bool>(false)
  private let actions = Mutex<[@Sendable () -> Void]>([])

  var isSet: Bool { flag.load(ordering: .acquiring) }

  func set() {
    flag.store(true, ordering: .releasing)
    let pending = actions.withLock { actions in
      defer { actions = [] }
      return actions
    }
    pending.forEach { $0() }
  }

  /// Runs `action` when the call is cancelled (at once if it already is).
  func onCancel(_ action: @escaping @Sendable () -> Void) {
    let now = actions.withLock { actions -> Bool in
      if isSet { return true }
      actions.append(action)
      return false
    }
    if now { action() }
  }
}
