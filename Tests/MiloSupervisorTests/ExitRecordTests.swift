import MiloSupervisor
import Testing

@Suite struct ExitRecordTests {
  @Test func textHasOneKeyPerLine() {
    let record = ExitRecord(
      exitCode: 137, signal: 9, oomKilled: true, startedAt: 1_700_000_000_123_456_789,
      finishedAt: 1_700_000_005_000_000_000)
    #expect(
      record.text
        == "exit_code=137\nsignal=9\noom_killed=1\nstarted_at=1700000000123456789\nfinished_at=1700000005000000000\n")
    #expect(ExitRecord(text: record.text) == record)
  }

  @Test func defaults() {
    let record = ExitRecord(exitCode: 0)
    #expect(record.signal == 0)
    #expect(!record.oomKilled)
    #expect(record.startedAt == 0)
    #expect(record.finishedAt == 0)
    #expect(record.startError == nil)
    #expect(record.text == "exit_code=0\nsignal=0\noom_killed=0\nstarted_at=0\nfinished_at=0\n")
  }

  @Test func startErrorIsKeptOnOneLine() {
    let record = ExitRecord(
      exitCode: -1, startedAt: 5, finishedAt: 6,
      startError: "crun: open `/x`: No such file\nexit status 1")
    #expect(
      record.text
        == "exit_code=-1\nsignal=0\noom_killed=0\nstarted_at=5\nfinished_at=6\n"
        + "start_error=crun: open `/x`: No such file | exit status 1\n")
    let parsed = ExitRecord(text: record.text)
    #expect(parsed?.exitCode == -1)
    #expect(parsed?.startError == "crun: open `/x`: No such file | exit status 1")
  }

  @Test func carriageReturnsDoNotBreakTheLine() {
    let record = ExitRecord(exitCode: -1, startError: "first\r\nsecond\rthird")
    #expect(record.text.hasSuffix("start_error=first | second | third\n"))
    #expect(record.text.unicodeScalars.filter { $0 == "\n" }.count == 6)
    #expect(!record.text.unicodeScalars.contains("\r"))
    #expect(ExitRecord(text: record.text)?.startError == "first | second | third")
  }

  @Test func valuesMayContainEqualsSigns() {
    let record = ExitRecord(exitCode: 1, startError: "bad option a=b")
    #expect(ExitRecord(text: record.text)?.startError == "bad option a=b")
  }

  @Test func emptyStartErrorRoundTrips() {
    let record = ExitRecord(exitCode: -1, startError: "")
    #expect(record.text.hasSuffix("finished_at=0\nstart_error=\n"))
    #expect(ExitRecord(text: record.text) == record)
  }

  @Test func parsesCRLFLines() {
    let parsed = ExitRecord(text: "exit_code=3\r\nsignal=0\r\noom_killed=0\r\nstarted_at=7\r\n")
    #expect(parsed == ExitRecord(exitCode: 3, startedAt: 7))
  }

  @Test func parsingToleratesOrderAndUnknownKeys() {
    let parsed = ExitRecord(text: "future=1\noom_killed=0\n\nsignal=15\nexit_code=143\nnot a pair\n")
    #expect(parsed == ExitRecord(exitCode: 143, signal: 15))
  }

  @Test(arguments: [
    "",
    "signal=0\noom_killed=0\n",  // no exit_code
    "exit_code=0\noom_killed=0\n",  // no signal
    "exit_code=0\nsignal=0\n",  // no oom_killed
    "exit_code=zero\nsignal=0\noom_killed=0\n",
    "exit_code=0\nsignal=\noom_killed=0\n",
    "exit_code=0\nsignal=0\noom_killed=yes\n",
  ])
  func rejectsMissingOrMalformedRequiredKeys(text: String) {
    #expect(ExitRecord(text: text) == nil)
  }

  @Test func malformedTimesDefaultToZero() {
    let parsed = ExitRecord(text: "exit_code=2\nsignal=0\noom_killed=2\nstarted_at=soon\n")
    #expect(parsed == ExitRecord(exitCode: 2, oomKilled: true))
  }
}
