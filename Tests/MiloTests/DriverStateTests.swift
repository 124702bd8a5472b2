import Foundation
import Testing

@testable import Milo

private let sample = DriverState(
  version: 1, taskID: "alloc1/web/abcd", containerID: "milo-abcd", taskStateDir: "/run/milo/tasks/milo-abcd",
  supervisorPid: 4242, supervisorStartTicks: 123_456_789, containerPid: 4250,
  startedAt: 1_700_000_000_000_000_001, runtimePath: "/usr/bin/crun", runtimeRoot: "/run/milo/runtime",
  javaHome: "/usr/lib/jvm/java-17", javaVersion: "17.0.15")

private func decodeError(_ text: String) -> DriverStateError? {
  caught(DriverStateError.self) { try DriverState.decode(Data(text.utf8)) }
}

@Suite struct DriverStateTests {
  @Test func roundTrip() throws {
    #expect(try DriverState.decode(sample.encoded()) == sample)
  }

  @Test func encodingIsJSONWithSortedKeys() throws {
    let object = try JSONSerialization.jsonObject(with: sample.encoded()) as? [String: Any]
    #expect(object?["version"] as? Int == 1)
    #expect(object?["containerPid"] as? Int == 4250)
    #expect(object?["javaVersion"] as? String == "17.0.15")
    let text = String(decoding: try sample.encoded(), as: UTF8.self)
    let keys = [
      "containerID", "containerPid", "javaHome", "javaVersion", "runtimePath", "runtimeRoot", "startedAt",
      "supervisorPid", "supervisorStartTicks", "taskID", "taskStateDir", "version",
    ]
    let positions = keys.map { text.range(of: "\"\($0)\":")?.lowerBound }
    #expect(positions.allSatisfy { $0 != nil })
    #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted())
    #expect(text.hasPrefix("{\"containerID\":\"milo-abcd\","))
    #expect(text.hasSuffix(",\"version\":1}"))
  }

  @Test func currentVersionIsOne() {
    #expect(DriverState.currentVersion == 1)
  }

  @Test func emptyData() {
    let error = caught(DriverStateError.self) { try DriverState.decode(Data()) }
    #expect(error == .empty)
    #expect(error?.description == "the task handle carries no milo driver state")
  }

  @Test(arguments: ["not json", "[1,2]", "{\"taskID\":\"x\"}", "{\"version\":\"1\"}"])
  func notDriverState(text: String) {
    let error = decodeError(text)
    #expect(error == .corrupt("not milo driver state (expected JSON with a version field)"))
    #expect(
      error?.description
        == "the task handle's driver state is corrupt: not milo driver state (expected JSON with a version field)")
  }

  @Test func unsupportedVersion() {
    let error = decodeError("{\"version\":2,\"taskID\":\"x\"}")
    #expect(error == .unsupportedVersion(2))
    #expect(
      error?.description
        == "the task handle's driver state has format version 2; this milo reads version 1")
  }

  @Test func missingFieldsAreCorrupt() {
    let error = decodeError("{\"version\":1,\"taskID\":\"x\"}")
    guard case .corrupt(let why) = error else {
      Issue.record("expected .corrupt, got \(String(describing: error))")
      return
    }
    #expect(why.contains("containerID"))
  }

  @Test func unknownFieldsAreIgnored() throws {
    var object = try JSONSerialization.jsonObject(with: sample.encoded()) as! [String: Any]
    object["addedLater"] = "x"
    let data = try JSONSerialization.data(withJSONObject: object)
    #expect(try DriverState.decode(data) == sample)
  }
}
