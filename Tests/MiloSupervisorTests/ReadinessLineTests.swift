import MiloSupervisor
import Testing

@Suite struct ReadinessLineTests {
  @Test func readyRoundTrips() {
    let line = ReadinessLine.ready(containerPid: 4242)
    #expect(line.text == "ok 4242\n")
    #expect(ReadinessLine.parse(String(line.text.dropLast())) == line)
  }

  @Test func failureRoundTripsOnOneLine() {
    let line = ReadinessLine.failed(reason: "crun run exited with 1:\nno such file\r\nbundle")
    #expect(line.text == "error crun run exited with 1: | no such file | bundle\n")
    #expect(
      ReadinessLine.parse(String(line.text.dropLast()))
        == .failed(reason: "crun run exited with 1: | no such file | bundle"))
  }

  @Test func rejectsOtherLines() {
    #expect(ReadinessLine.parse("") == nil)
    #expect(ReadinessLine.parse("ok") == nil)
    #expect(ReadinessLine.parse("ok x") == nil)
    #expect(ReadinessLine.parse("ready 12") == nil)
  }

  @Test func oneLineFoldsBreaks() {
    // A trailing break folds too (as it always did): only leading breaks vanish.
    #expect(ReadinessLine.oneLine("a\n\nb\r\n") == "a | b | ")
    #expect(ReadinessLine.oneLine("\nstart") == "start")
  }
}
