/// Where a task is in its life (Go: `drivers.TaskState`).
public enum TaskState: Sendable, Equatable {
  case unknown, running, exited
}
