/// The tasks this plugin instance knows, by Nomad task id.
actor TaskStore {
  private var tasks: [String: MiloTask] = [:]

  func get(_ id: String) -> MiloTask? { tasks[id] }

  /// Adds a task; false when the id is taken.
  func insert(_ task: MiloTask) -> Bool {
    guard tasks[task.id] == nil else { return false }
    tasks[task.id] = task
    return true
  }

  /// The first task that satisfies `predicate`.
  func first(where predicate: (MiloTask) -> Bool) -> MiloTask? { tasks.values.first(where: predicate) }

  func remove(_ id: String) { tasks[id] = nil }

  var count: Int { tasks.count }
}
