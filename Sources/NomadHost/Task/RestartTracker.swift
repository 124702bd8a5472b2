import Foundation

/// Nomad's restart tracker (`client/allocrunner/taskrunner/restarts/restarts.go`).
public struct RestartTracker: Sendable {
  public static let reasonNoRestartsAllowed = "Policy allows no restarts"
  public static let reasonUnrecoverableError = "Error was unrecoverable"
  public static let reasonWithinPolicy = "Restart within policy"
  public static let reasonDelay = "Exceeded allowed attempts, applying a delay"

  /// What the task runner should do next.
  public enum Decision: Sendable, Equatable {
    /// `TaskKilled`: emit Killed, stop.
    case killed
    /// `TaskTerminated`: stop, not failed.
    case terminated
    /// `TaskNotRestarting`: stop, failed.
    case notRestarting
    /// `TaskRestarting` after the delay.
    case restarting(Duration)
  }

  public var policy: RestartPolicySpec
  /// Restart on a successful exit (false for batch jobs).
  public let onSuccess: Bool
  private var startError: (recoverable: Bool, present: Bool) = (false, false)
  private var exitSuccessful: Bool?
  private var killed = false
  private var restartTriggered = false
  private var failure = false
  private(set) var count = 0
  private var startTime = ContinuousClock.now
  /// The reason for the last decision.
  public private(set) var reason = ""

  public init(policy: RestartPolicySpec, jobType: JobSpec.JobType) {
    self.policy = policy
    self.onSuccess = !(jobType == .batch || jobType == .sysbatch)
  }

  /// `SetStartError`.
  public mutating func setStartError(recoverable: Bool) {
    startError = (recoverable, true)
    failure = true
  }

  /// `SetExitResult`.
  public mutating func setExitResult(successful: Bool) {
    exitSuccessful = successful
    failure = true
  }

  /// `SetKilled`.
  public mutating func setKilled() { killed = true }

  /// `SetRestartTriggered`.
  public mutating func setRestartTriggered(failure: Bool) {
    if failure { self.failure = true } else { restartTriggered = true }
  }

  /// `GetState`.
  public mutating func decide() -> Decision {
    defer {
      startError = (false, false)
      exitSuccessful = nil
      restartTriggered = false
      failure = false
      killed = false
    }
    if killed {
      reason = ""
      return .killed
    }
    if restartTriggered {
      reason = ""
      return .restarting(.zero)
    }
    if policy.attempts == 0 {
      reason = Self.reasonNoRestartsAllowed
      if !onSuccess, exitSuccessful == true { return .terminated }
      return .notRestarting
    }
    let now = ContinuousClock.now
    if now > startTime + policy.interval {
      count = 0
      startTime = now
    }
    count += 1
    guard failure else { return .restarting(.zero) }
    if startError.present {
      if !startError.recoverable {
        reason = Self.reasonUnrecoverableError
        return .notRestarting
      }
    } else if exitSuccessful == true && !onSuccess {
      reason = "Restart unnecessary as task terminated successfully"
      return .terminated
    }
    if count > policy.attempts {
      if policy.mode == .fail {
        reason =
          "Exceeded allowed attempts \(policy.attempts) in interval \(GoDuration.format(policy.interval)) and mode is \"fail\""
        return .notRestarting
      }
      reason = Self.reasonDelay
      return .restarting(startTime + policy.interval - now)
    }
    reason = Self.reasonWithinPolicy
    return .restarting(jitter())
  }

  private func jitter() -> Duration {
    let delay = policy.delay == .zero ? Duration.nanoseconds(1) : policy.delay
    let nanos = delay.components.seconds * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000
    let extra = Double(Int64.random(in: 0..<max(1, nanos))) * 0.25
    return .nanoseconds(nanos + Int64(extra))
  }
}
