/// Waits until `condition` holds, checking every `interval`; false when it still does not
/// hold after `timeout`. The one polling helper of every test target: for conditions no
/// event announces (a file's size, a process's state).
public func eventually(
  timeout: Duration = .seconds(5), every interval: Duration = .milliseconds(20),
  _ condition: () async throws -> Bool
) async rethrows -> Bool {
  let deadline = ContinuousClock.now + timeout
  while true {
    if try await condition() { return true }
    if ContinuousClock.now >= deadline { return false }
    try? await Task.sleep(for: interval)
  }
}
