import Foundation
import Milo
import MiloSupervisor
import MiloSys
import NomadHost
import NomadPlugin
import Testing

/// Issue 5: group networking. In `network { mode = "bridge" }` Nomad creates the alloc's network
/// namespace (/var/run/netns/<alloc ID>) and passes it in the TaskConfig; the task's container
/// joins it. In host mode the task shares the host's network namespace.
@Suite(.serialized, .enabled(if: Fixtures.canRunContainers, "needs root, crun, a JDK and the milo binary"))
struct NetworkTests {
  @Test func bridgeModeJoinsTheAllocNamespaceAndHostModeSharesTheHosts() async throws {
    var netnsPath = ""
    try await withMiloHarness("network") { harness in
      let hostNamespace = try #require(Ops.inode("/proc/self/ns/net"))

      let (bridged, bridgedRunner) = try await harness.run(MiloHarness.testAppTask(["serve", "500"]), network: .bridge)
      let bridgedState = try await Ops.started(harness, bridged, bridgedRunner, log: "Starting application...")
      netnsPath = "/var/run/netns/\(bridged.allocID)"
      #expect(await bridged.networkNamespacePath == netnsPath)
      let allocNamespace = try #require(Ops.inode(netnsPath), "no namespace at \(netnsPath)")
      #expect(allocNamespace != hostNamespace)
      // The JVM (and anything exec'd next to it) is in the alloc's namespace.
      #expect(Ops.inode("/proc/\(bridgedState.containerPid)/ns/net") == allocNamespace)
      let devices = try await bridgedRunner.exec([
        "/bin/sh", "-c", "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '",
      ])
      #expect(Ops.string(Array(devices.stdout)) == "lo\n", "only the loopback NomadHost brings up")
      let link = try await bridgedRunner.exec(["/bin/sh", "-c", "readlink /proc/self/ns/net"])
      #expect(Ops.string(Array(link.stdout)) == "net:[\(allocNamespace)]\n")

      let (hosted, hostedRunner) = try await harness.run(MiloHarness.testAppTask(["serve", "500"]))
      let hostedState = try await Ops.started(harness, hosted, hostedRunner, log: "Starting application...")
      #expect(await hosted.networkNamespacePath == nil)
      #expect(Ops.inode("/proc/\(hostedState.containerPid)/ns/net") == hostNamespace)
      let hostDevices = try await hostedRunner.exec([
        "/bin/sh", "-c", "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort",
      ])
      let expected = (Posix.readText("/proc/net/dev") ?? "").split(separator: "\n").dropFirst(2)
        .compactMap { $0.split(separator: ":").first?.trimmingCharacters(in: .whitespaces) }.sorted()
      #expect(Ops.string(Array(hostDevices.stdout)) == expected.map { $0 + "\n" }.joined())

      // The other namespaces are the container's own either way.
      for state in [bridgedState, hostedState] {
        for kind in ["pid", "ipc", "uts", "mnt"] {
          #expect(Ops.inode("/proc/\(state.containerPid)/ns/\(kind)") != Ops.inode("/proc/self/ns/\(kind)"), "\(kind)")
        }
      }
    }
    #expect(!FileManager.default.fileExists(atPath: netnsPath), "the alloc's namespace is destroyed with it")
  }
}
