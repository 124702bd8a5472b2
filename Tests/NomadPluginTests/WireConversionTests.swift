import Foundation
import GRPCCore
import GRPCProtobuf
import NomadProto
import SwiftProtobuf
import Testing

@testable import NomadPlugin

/// The conversions between the SDK's model types and Nomad's protocol messages.
@Suite struct WireConversionTests {
  static func wireConfig() -> Hashicorp_Nomad_Plugins_Drivers_Proto_TaskConfig {
    var wire = Hashicorp_Nomad_Plugins_Drivers_Proto_TaskConfig()
    wire.id = "alloc/web/1"
    wire.name = "web"
    wire.allocID = "alloc"
    wire.jobName = "job"
    wire.taskGroupName = "group"
    wire.env = ["A": "1"]
    wire.deviceEnv = ["GPU": "0"]
    wire.user = "nobody"
    wire.allocDir = "/alloc"
    wire.stdoutPath = "/out"
    wire.stderrPath = "/err"
    wire.msgpackDriverConfig = Data([0x80])
    wire.resources.linuxResources.cpusetCpus = "0-1"
    wire.resources.linuxResources.percentTicks = 0.5
    wire.resources.allocatedResources.memory.memoryMb = 256
    wire.resources.allocatedResources.cpu.cpuShares = 100
    wire.networkIsolationSpec.mode = .group
    wire.networkIsolationSpec.path = "/var/run/netns/alloc"
    var mount = Hashicorp_Nomad_Plugins_Drivers_Proto_Mount()
    mount.taskPath = "/data"
    mount.hostPath = "/srv"
    mount.readonly = true
    mount.propagationMode = "private"
    wire.mounts = [mount]
    var device = Hashicorp_Nomad_Plugins_Drivers_Proto_Device()
    device.taskPath = "/dev/x"
    device.hostPath = "/dev/y"
    device.cgroupPermissions = "rw"
    wire.devices = [device]
    // Not modelled: must survive a round trip.
    wire.namespace = "prod"
    wire.nodeName = "node-1"
    wire.dns.servers = ["1.1.1.1"]
    var port = Hashicorp_Nomad_Plugins_Drivers_Proto_PortMapping()
    port.label = "http"
    port.value = 8080
    wire.resources.ports = [port]
    return wire
  }

  @Test func taskConfigFieldsAreModelled() {
    let config = TaskConfig(wire: Self.wireConfig())
    #expect(config.id == "alloc/web/1")
    #expect(config.name == "web")
    #expect(config.allocID == "alloc")
    #expect(config.jobName == "job")
    #expect(config.taskGroupName == "group")
    #expect(config.env == ["A": "1"])
    #expect(config.deviceEnv == ["GPU": "0"])
    #expect(config.user == "nobody")
    #expect(config.allocDir == "/alloc")
    #expect(config.stdoutPath == "/out")
    #expect(config.stderrPath == "/err")
    #expect(config.msgpackDriverConfig == [0x80])
    #expect(config.resources.linuxResources.cpusetCpus == "0-1")
    #expect(config.resources.linuxResources.percentTicks == 0.5)
    #expect(config.resources.allocatedResources.memory.memoryMb == 256)
    #expect(config.resources.allocatedResources.cpu.cpuShares == 100)
    #expect(config.networkIsolation == NetworkIsolationSpec(mode: .group, path: "/var/run/netns/alloc"))
    #expect(config.mounts.map(\.hostPath) == ["/srv"])
    #expect(config.mounts.first?.readonly == true)
    #expect(config.devices.map(\.cgroupPermissions) == ["rw"])
    #expect(TaskConfig(wire: .init()).networkIsolation == nil)
  }

  @Test func aTaskConfigRoundTripsUnchanged() {
    let wire = Self.wireConfig()
    #expect(TaskConfig(wire: wire).wire == wire)
    #expect(TaskConfig(wire: .init()).wire == .init())
  }

  @Test func changedModelFieldsReachTheWire() {
    var config = TaskConfig(wire: Self.wireConfig())
    config.user = "app"
    config.networkIsolation = nil
    config.resources.linuxResources.cpuQuota = 5000
    let wire = config.wire
    #expect(wire.user == "app")
    #expect(!wire.hasNetworkIsolationSpec)
    #expect(wire.resources.linuxResources.cpuQuota == 5000)
    #expect(wire.resources.ports.map(\.label) == ["http"])
    #expect(wire.namespace == "prod")
  }

  @Test func aHandleRoundTrips() {
    var wire = Hashicorp_Nomad_Plugins_Drivers_Proto_TaskHandle()
    wire.version = 2
    wire.config = Self.wireConfig()
    wire.state = .exited
    wire.driverState = Data("{}".utf8)
    let handle = TaskHandle(wire: wire)
    #expect(handle.version == 2)
    #expect(handle.state == .exited)
    #expect(handle.driverState == Array("{}".utf8))
    #expect(handle.wire == wire)
  }

  @Test func statusSendsOnlyTheTimesItHas() {
    var status = TaskStatus()
    status.id = "t"
    status.state = .running
    status.startedAt = Timestamp(nanoseconds: 1_500_000_000)
    var wire = status.wire
    #expect(wire.startedAt.seconds == 1)
    #expect(wire.startedAt.nanos == 500_000_000)
    #expect(!wire.hasCompletedAt)
    #expect(!wire.hasResult)
    status.result = ExitResult(exitCode: 1, signal: 9, oomKilled: true)
    wire = status.wire
    #expect(wire.result.exitCode == 1)
    #expect(wire.result.signal == 9)
    #expect(wire.result.oomKilled)
  }

  @Test func fingerprintAndCapabilities() {
    var fingerprint = Fingerprint()
    fingerprint.health = .unhealthy
    fingerprint.healthDescription = "no runtime"
    fingerprint.attributes["driver.x"] = Attribute(.bool(true))
    fingerprint.attributes["driver.x.version"] = Attribute(.string("1.0"))
    let wire = fingerprint.wire
    #expect(wire.health == .unhealthy)
    #expect(wire.healthDescription == "no runtime")
    #expect(wire.attributes["driver.x"]?.value == .boolVal(true))
    #expect(wire.attributes["driver.x.version"]?.value == .stringVal("1.0"))

    var capabilities = DriverCapabilities()
    capabilities.sendSignals = true
    capabilities.exec = true
    capabilities.fsIsolation = .image
    capabilities.networkIsolationModes = [.host, .group]
    capabilities.mountConfigs = .anyMounts
    let caps = capabilities.wire
    #expect(caps.sendSignals && caps.exec && !caps.mustCreateNetwork)
    #expect(caps.fsIsolation == .image)
    #expect(caps.networkIsolationModes == [.host, .group])
    #expect(caps.mountConfigs == .anyMounts)
  }

  @Test func statsAndEvents() {
    var stats = TaskStats()
    stats.id = "t"
    stats.timestamp = Date(timeIntervalSince1970: 100)
    stats.aggResourceUsage.memory.rss = 42
    stats.aggResourceUsage.memory.measuredFields = [.rss]
    stats.aggResourceUsage.cpu.percent = 12.5
    stats.aggResourceUsage.cpu.measuredFields = [.percent, .totalTicks]
    let wire = stats.wire
    #expect(wire.id == "t")
    #expect(wire.timestamp.seconds == 100)
    #expect(wire.aggResourceUsage.memory.rss == 42)
    #expect(wire.aggResourceUsage.memory.measuredFields == [.rss])
    #expect(wire.aggResourceUsage.cpu.percent == 12.5)
    #expect(wire.aggResourceUsage.cpu.measuredFields == [.percent, .totalTicks])

    var event = DriverTaskEvent()
    event.taskID = "t"
    event.allocID = "a"
    event.taskName = "web"
    event.message = "hi"
    event.annotations = ["k": "v"]
    let wireEvent = event.wire
    #expect(wireEvent.taskID == "t" && wireEvent.allocID == "a" && wireEvent.taskName == "web")
    #expect(wireEvent.message == "hi" && wireEvent.annotations == ["k": "v"])
  }

  @Test func driverErrorsMapToStatusCodes() throws {
    let cases: [(DriverError, RPCError.Code)] = [
      (.invalidArgument("bad"), .invalidArgument),
      (.hostProblem("not root"), .failedPrecondition),
      (.taskNotFound("t"), .notFound),
      (DriverError(.alreadyExists, "x"), .alreadyExists),
      (DriverError(.deadlineExceeded, "x"), .deadlineExceeded),
      (DriverError(.unimplemented, "x"), .unimplemented),
      (DriverError(.internalError, "x"), .internalError),
    ]
    for (error, code) in cases {
      let wire = try #require(error.wireError as? RPCError)
      #expect(wire.code == code)
      #expect(wire.message == error.message)
    }
    let recoverable = DriverError(.internalError, "try again", recoverable: true)
    let status = try #require(recoverable.wireError as? GoogleRPCStatus)
    #expect(status.code == .failedPrecondition)
    #expect(status.message == "try again")
    #expect(status.details.count == 1)
    struct Other: Error {}
    #expect((Other().asRPCError as? RPCError)?.code == .internalError)
  }
}
