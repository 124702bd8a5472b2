import Foundation
import MiloSupervisor
import NomadPlugin
import Testing

@testable import Milo

@Suite struct PidsLimitTests {
  @Test func theTaskWinsWithinThePluginsBound() throws {
    #expect(try LaunchPlanner.pidsLimit(task: nil, plugin: 0) == nil)
    #expect(try LaunchPlanner.pidsLimit(task: nil, plugin: 512) == 512)
    #expect(try LaunchPlanner.pidsLimit(task: 100, plugin: 0) == 100)
    #expect(try LaunchPlanner.pidsLimit(task: 100, plugin: 512) == 100)
    #expect(try LaunchPlanner.pidsLimit(task: 512, plugin: 512) == 512)
  }

  @Test func aTaskAboveThePluginsBoundIsRejected() {
    let error = #expect(throws: TaskError.self) { try LaunchPlanner.pidsLimit(task: 600, plugin: 512) }
    #expect(
      error?.description
        == "Error: pids_limit is above the plugin's limit\nExpected: pids_limit ≤ 512 (the milo plugin's pids_limit)\n"
        + "Got: pids_limit = 600\nSuggestion: lower the task's pids_limit, or ask the operator to raise the plugin's.")
  }

  /// As Docker's driver: 0 or less means "not set", so the plugin's limit applies.
  @Test(arguments: [0, -5] as [Int64])
  func aLimitBelowOneIsUnset(_ value: Int64) throws {
    #expect(try LaunchPlanner.pidsLimit(task: value, plugin: 0) == nil)
    #expect(try LaunchPlanner.pidsLimit(task: value, plugin: 300) == 300)
  }

}
