/// A task's supervisor as the driver sees it: the process that owns the container, relays its
/// logs and records its exit. `SupervisorProcess` is the real one; tests can fake it.
protocol ContainerSupervisor: Sendable {
  /// The supervisor's pid (recorded in the driver state).
  var pid: Int32 { get }
  /// Its start time in clock ticks since boot, to detect pid reuse after a plugin restart.
  var startTicks: UInt64 { get }
  /// Whether it is still running.
  var isRunning: Bool { get }
  /// Suspends until it exits.
  func waitForExit() async
  /// Asks it to deliver `signal` to the application; false when it could not be asked.
  @discardableResult func forward(signal: Int32) -> Bool
  /// Asks it to kill the container and finish.
  func terminate()
  /// Kills the supervisor itself, when it did not finish after `terminate()`.
  func kill()
  /// Collects its exit status when it is our child.
  func reap()
  /// Releases what watching it holds (its pidfd).
  func release()
}

extension SupervisorProcess: ContainerSupervisor {}
