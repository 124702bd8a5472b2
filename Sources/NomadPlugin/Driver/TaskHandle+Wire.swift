import Foundation
import NomadProto
import SwiftProtobuf

extension TaskState {
  init(wire: Hashicorp_Nomad_Plugins_Drivers_Proto_TaskState) {
    switch wire {
    case .running: self = .running
    case .exited: self = .exited
    case .unknown, .UNRECOGNIZED: self = .unknown
    }
  }

  var wire: Hashicorp_Nomad_Plugins_Drivers_Proto_TaskState {
    switch self {
    case .unknown: .unknown
    case .running: .running
    case .exited: .exited
    }
  }
}

extension TaskHandle {
  init(wire: Hashicorp_Nomad_Plugins_Drivers_Proto_TaskHandle) {
    self.init(
      version: wire.version, config: TaskConfig(wire: wire.config), state: TaskState(wire: wire.state),
      driverState: [UInt8](wire.driverState))
  }

  var wire: Hashicorp_Nomad_Plugins_Drivers_Proto_TaskHandle {
    var wire = Hashicorp_Nomad_Plugins_Drivers_Proto_TaskHandle()
    wire.version = version
    wire.config = config.wire
    wire.state = state.wire
    wire.driverState = Data(driverState)
    return wire
  }
}

extension ExitResult {
  init(wire: Hashicorp_Nomad_Plugins_Drivers_Proto_ExitResult) {
    self.init(exitCode: wire.exitCode, signal: wire.signal, oomKilled: wire.oomKilled)
  }

  var wire: Hashicorp_Nomad_Plugins_Drivers_Proto_ExitResult {
    var wire = Hashicorp_Nomad_Plugins_Drivers_Proto_ExitResult()
    wire.exitCode = exitCode
    wire.signal = signal
    wire.oomKilled = oomKilled
    return wire
  }
}

extension Timestamp {
  var wire: Google_Protobuf_Timestamp { Google_Protobuf_Timestamp(seconds: seconds, nanos: nanos) }
}

extension TaskStatus {
  var wire: Hashicorp_Nomad_Plugins_Drivers_Proto_TaskStatus {
    var wire = Hashicorp_Nomad_Plugins_Drivers_Proto_TaskStatus()
    wire.id = id
    wire.name = name
    wire.state = state.wire
    if let startedAt { wire.startedAt = startedAt.wire }
    if let completedAt { wire.completedAt = completedAt.wire }
    if let result { wire.result = result.wire }
    return wire
  }
}

extension DriverTaskEvent {
  var wire: Hashicorp_Nomad_Plugins_Drivers_Proto_DriverTaskEvent {
    var wire = Hashicorp_Nomad_Plugins_Drivers_Proto_DriverTaskEvent()
    wire.taskID = taskID
    wire.allocID = allocID
    wire.taskName = taskName
    wire.timestamp = Google_Protobuf_Timestamp(date: timestamp)
    wire.message = message
    wire.annotations = annotations
    return wire
  }
}
