/// A problem with a task's inputs, phrased for the person who wrote the job.
///
/// Rendered as four lines: `Error:`, `Expected:`, `Got:`, `Suggestion:`.
public struct TaskError: Error, CustomStringConvertible, Sendable, Equatable {
  public var what: String
  public var expected: String
  public var got: String
  public var suggestion: String

  public init(_ what: String, expected: String, got: String, suggestion: String) {
    self.what = what
    self.expected = expected
    self.got = got
    self.suggestion = suggestion
  }

  public var description: String {
    "Error: \(what)\nExpected: \(expected)\nGot: \(got)\nSuggestion: \(suggestion)"
  }
}
