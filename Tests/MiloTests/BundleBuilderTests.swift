import Foundation
import NomadPlugin
import Testing

@testable import Milo

private let taskDir = "/var/nomad/alloc/a1b2/web"
private let allocDir = "/var/nomad/alloc/a1b2"

private func request(
  javaHome: String = "/opt/java/jdk-21", env: [String: String] = ["FOO": "bar"],
  user: TaskUser = TaskUser(name: "app", uid: 1001, gid: 1002, groups: [999, 29]), caps: [String] = [],
  resources: TaskConfig? = nil, network: String? = nil, workDir: String? = nil,
  containerID: String = "milo-a1b2-web"
) -> BundleRequest {
  BundleRequest(
    containerID: containerID, bundleDir: "/run/milo/tasks/\(containerID)/bundle", taskDir: taskDir,
    allocDir: allocDir,
    java: JavaRuntime(home: javaHome, version: "21.0.7", vendor: "Debian", runtimeVersion: "21.0.7+6"),
    command: JavaCommand(
      arguments: ["-Xmx256m", "-jar", "/local/app.jar", "serve"], hostJar: taskDir + "/local/app.jar"),
    env: env, user: user, capabilities: caps, resources: resources, networkNamespacePath: network,
    cgroupsPath: "/milo/\(containerID)", workDir: workDir)
}

/// A task config with Nomad's resources: allocated memory/cpu and the Linux limits Nomad derives.
private func taskConfig(
  memoryMB: Int64 = 0, memoryMaxMB: Int64 = 0, limitBytes: Int64 = 0, allocatedShares: Int64 = 0,
  linuxShares: Int64 = 0, quota: Int64 = 0, period: Int64 = 0, cpuset: String = ""
) -> TaskConfig {
  var config = TaskConfig()
  config.resources.allocatedResources.memory.memoryMb = memoryMB
  config.resources.allocatedResources.memory.memoryMaxMb = memoryMaxMB
  config.resources.allocatedResources.cpu.cpuShares = allocatedShares
  config.resources.linuxResources.memoryLimitBytes = limitBytes
  config.resources.linuxResources.cpuShares = linuxShares
  config.resources.linuxResources.cpuQuota = quota
  config.resources.linuxResources.cpuPeriod = period
  config.resources.linuxResources.cpusetCpus = cpuset
  return config
}

private func bind(_ source: String, at destination: String? = nil, readOnly: Bool) -> OCISpec.Mount {
  OCISpec.Mount(
    destination: destination ?? source, type: "bind", source: source,
    options: ["rbind", "nosuid", "nodev", readOnly ? "ro" : "rw"])
}

@Suite struct BundleBuilderTests {
  @Test func taskDirectoriesAreWritableBindsFromTheRightHostPaths() {
    let spec = BundleBuilder.spec(for: request())
    #expect(
      Array(spec.mounts.suffix(4)) == [
        bind(taskDir + "/local", at: "/local", readOnly: false),
        bind(taskDir + "/secrets", at: "/secrets", readOnly: false),
        bind(taskDir + "/tmp", at: "/tmp", readOnly: false),
        bind(allocDir + "/alloc", at: "/alloc", readOnly: false),
      ])
  }

  @Test func usrAndKernelFilesystems() {
    let spec = BundleBuilder.spec(for: request())
    #expect(spec.mounts.contains(bind("/usr", readOnly: true)))
    #expect(
      Array(spec.mounts.prefix(8).map(\.destination)) == [
        "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup", "/usr",
      ])
    #expect(spec.mounts[0] == OCISpec.Mount(destination: "/proc", type: "proc", source: "proc", options: nil))
    #expect(spec.mounts[5].options == ["nosuid", "noexec", "nodev", "ro"])
    #expect(spec.mounts[6].options?.contains("ro") == true)
    // Every host bind except the task's own directories is read-only.
    let writable = spec.mounts.filter { $0.type == "bind" && $0.options?.contains("rw") == true }
    #expect(writable.map(\.destination) == ["/local", "/secrets", "/tmp", "/alloc"])
    #expect(spec.mounts.filter { $0.destination == "/usr" }.count == 1)
  }

  @Test func etcFilesThatExistAreBoundReadOnly() {
    let spec = BundleBuilder.spec(for: request())
    let etc = spec.mounts.filter { $0.destination.hasPrefix("/etc/") }
    for mount in etc {
      #expect(mount == bind(mount.source, readOnly: true))
      #expect(FileManager.default.fileExists(atPath: mount.source))
    }
    for path in BundleBuilder.etcFiles {
      #expect(etc.contains { $0.source == path } == FileManager.default.fileExists(atPath: path))
    }
  }

  @Test func javaHomeOutsideUsrIsBoundReadOnly() {
    let spec = BundleBuilder.spec(for: request(javaHome: "/opt/java/jdk-21"))
    #expect(spec.mounts.contains(bind("/opt/java/jdk-21", readOnly: true)))
    let inUsr = BundleBuilder.spec(for: request(javaHome: "/usr/lib/jvm/java-21"))
    #expect(!inUsr.mounts.contains { $0.source == "/usr/lib/jvm/java-21" })
  }

  @Test func processRunsJavaFromTheHomeWithTheCommand() {
    let spec = BundleBuilder.spec(for: request())
    #expect(spec.process.args == ["/opt/java/jdk-21/bin/java", "-Xmx256m", "-jar", "/local/app.jar", "serve"])
    #expect(spec.process.cwd == "/")
    #expect(spec.process.terminal == false)
    #expect(spec.process.noNewPrivileges)
    #expect(spec.process.rlimits == [])
    #expect(spec.process.oomScoreAdj == nil)
    #expect(BundleBuilder.spec(for: request(workDir: "/local")).process.cwd == "/local")
  }

  @Test func underMiloInitTheJVMIsItsChild() {
    var withInit = request()
    withInit.initBinary = InitBinary(hostPath: "/opt/nomad/plugins/milo", libraryDirs: ["/opt/swift/lib"])
    let spec = BundleBuilder.spec(for: withInit)
    #expect(
      spec.process.args == [
        "/.milo/init", "init", "/opt/java/jdk-21/bin/java", "-Xmx256m", "-jar", "/local/app.jar", "serve",
      ])
    #expect(spec.mounts.contains(bind("/opt/nomad/plugins/milo", at: "/.milo/init", readOnly: true)))
    #expect(spec.mounts.contains(bind("/opt/swift/lib", readOnly: true)))
  }

  @Test func pidsLimit() {
    var limited = request()
    limited.pidsLimit = 256
    #expect(BundleBuilder.spec(for: limited).linux.resources.pids == OCISpec.Pids(limit: 256))
    #expect(BundleBuilder.spec(for: request()).linux.resources.pids == nil)
  }

  @Test func environment() {
    let spec = BundleBuilder.spec(
      for: request(env: ["FOO": "bar", "JAVA_HOME": "/wrong", "NOMAD_TASK_DIR": taskDir + "/local", "A": "1"]))
    #expect(
      spec.process.env == [
        "A=1", "FOO=bar", "HOME=/local", "JAVA_HOME=/opt/java/jdk-21", "LANG=C.UTF-8", "NOMAD_ALLOC_DIR=/alloc",
        "NOMAD_SECRETS_DIR=/secrets", "NOMAD_TASK_DIR=/local",
        "PATH=/opt/java/jdk-21/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TMPDIR=/tmp",
      ])
    let lang = BundleBuilder.spec(for: request(env: ["LANG": "de_DE.UTF-8"]))
    #expect(lang.process.env.contains("LANG=de_DE.UTF-8"))
    #expect(!lang.process.env.contains("LANG=C.UTF-8"))
    // Image isolation: no host environment. A job's PATH, HOME and TMPDIR are kept (Java first).
    let job = BundleBuilder.spec(
      for: request(env: ["PATH": "/opt/tools/bin", "HOME": "/alloc/home", "TMPDIR": "/local/t"]))
    #expect(job.process.env.contains("PATH=/opt/java/jdk-21/bin:/opt/tools/bin"))
    #expect(job.process.env.contains("HOME=/alloc/home"))
    #expect(job.process.env.contains("TMPDIR=/local/t"))
  }

  @Test func containerIDIsPerAllocAndTask() {
    let alloc = "0b4f7f1e-9a53-5c1d-8b9e-3f2f7b1c0a11"
    let first = LaunchPlanner.containerID(for: "\(alloc)/java-app/1a2b3c4d")
    #expect(first == "milo-\(alloc)_java-app")
    #expect(LaunchPlanner.containerID(for: "\(alloc)/java-app/99999999") == first)
    #expect(LaunchPlanner.containerID(for: "\(alloc)/other/1a2b3c4d") != first)
    // Replaced characters add a hash, so "a b" and "a_b" stay distinct.
    let spaced = LaunchPlanner.containerID(for: "\(alloc)/a b/1a2b3c4d")
    #expect(spaced.hasPrefix("milo-\(alloc)_a_b-") && spaced.count == "milo-\(alloc)_a_b-".count + 8)
    #expect(spaced != LaunchPlanner.containerID(for: "\(alloc)/a_b/1a2b3c4d"))
  }

  @Test func user() {
    let spec = BundleBuilder.spec(for: request())
    #expect(spec.process.user == OCISpec.User(uid: 1001, gid: 1002, additionalGids: [999, 29]))
    let plain = BundleBuilder.spec(for: request(user: TaskUser(name: "nobody", uid: 65534, gid: 65534, groups: [])))
    #expect(plain.process.user == OCISpec.User(uid: 65534, gid: 65534, additionalGids: nil))
  }

  @Test func namespaces() {
    let spec = BundleBuilder.spec(for: request())
    #expect(spec.linux.namespaces.map(\.type) == ["pid", "ipc", "uts", "mount"])
    #expect(spec.linux.namespaces.allSatisfy { $0.path == nil })
    let grouped = BundleBuilder.spec(for: request(network: "/var/run/netns/a1b2"))
    #expect(grouped.linux.namespaces.map(\.type) == ["pid", "ipc", "uts", "mount", "network"])
    #expect(grouped.linux.namespaces.last?.path == "/var/run/netns/a1b2")
    let empty = BundleBuilder.spec(for: request(network: ""))
    #expect(empty.linux.namespaces.count == 4)
  }

  @Test func noCapabilitiesUnlessGiven() {
    let spec = BundleBuilder.spec(for: request())
    let caps = spec.process.capabilities
    #expect(caps.bounding == [])
    #expect(caps.effective == [])
    #expect(caps.permitted == [])
    #expect(caps.inheritable == [])
    #expect(caps.ambient == [])
  }

  @Test func givenCapabilities() {
    let spec = BundleBuilder.spec(for: request(caps: ["net_bind_service", "net_raw"]))
    let caps = spec.process.capabilities
    let expected = ["CAP_NET_BIND_SERVICE", "CAP_NET_RAW"]
    #expect(caps.bounding == expected)
    #expect(caps.effective == expected)
    #expect(caps.permitted == expected)
    #expect(caps.ambient == expected)
    // The kernel raises an ambient capability only if it is also inheritable.
    #expect(caps.inheritable == expected)
  }

  @Test func rootHostnameAndLinux() {
    let spec = BundleBuilder.spec(for: request())
    #expect(spec.ociVersion == "1.0.2")
    #expect(spec.root == OCISpec.Root(path: "rootfs", readonly: true))
    #expect(spec.hostname == "milo-a1b2-web")
    #expect(spec.linux.cgroupsPath == "/milo/milo-a1b2-web")
    #expect(spec.linux.maskedPaths.contains("/proc/kcore"))
    #expect(spec.linux.maskedPaths.contains("/sys/firmware"))
    #expect(spec.linux.readonlyPaths == ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"])
    let long = String(repeating: "x", count: 80)
    #expect(BundleBuilder.spec(for: request(containerID: long)).hostname == String(repeating: "x", count: 63))
    #expect(BundleBuilder.spec(for: request(containerID: "")).hostname == "milo")
  }

  @Test func noResourcesMeansOnlyTheDeviceRule() {
    let resources = BundleBuilder.spec(for: request()).linux.resources
    #expect(
      resources == OCISpec.Resources(devices: [.init(allow: false, access: "rwm")], memory: nil, cpu: nil, pids: nil))
    // A task config without a resources message is the same.
    #expect(BundleBuilder.resources(TaskConfig()) == resources)
  }

  @Test func memoryLimitWithoutSwap() {
    let resources = BundleBuilder.spec(
      for: request(resources: taskConfig(memoryMB: 256, limitBytes: 256 << 20, allocatedShares: 500, linuxShares: 500))
    ).linux.resources
    #expect(resources.memory == OCISpec.Memory(limit: 268_435_456, reservation: nil, swap: 268_435_456))
    #expect(resources.cpu == OCISpec.CPU(shares: 500, quota: nil, period: nil, cpus: nil, mems: nil))
    #expect(resources.devices == [OCISpec.DeviceRule(allow: false, access: "rwm")])
  }

  @Test func memoryMaxGivesALimitAndAReservation() {
    let memory = BundleBuilder.resources(taskConfig(memoryMB: 256, memoryMaxMB: 512)).memory
    #expect(memory == OCISpec.Memory(limit: 512 << 20, reservation: 256 << 20, swap: 512 << 20))
  }

  @Test func linuxLimitWinsOverAllocatedMemory() {
    let memory = BundleBuilder.resources(taskConfig(memoryMB: 256, memoryMaxMB: 1024, limitBytes: 300 << 20)).memory
    #expect(memory == OCISpec.Memory(limit: 300 << 20, reservation: 256 << 20, swap: 300 << 20))
  }

  @Test func memoryMaxBelowMemoryIsIgnored() {
    let memory = BundleBuilder.resources(taskConfig(memoryMB: 512, memoryMaxMB: 128)).memory
    #expect(memory == OCISpec.Memory(limit: 512 << 20, reservation: nil, swap: 512 << 20))
  }

  @Test func noMemoryBlockWithoutMemory() {
    #expect(BundleBuilder.resources(taskConfig(allocatedShares: 100)).memory == nil)
  }

  @Test func cpuShares() {
    #expect(BundleBuilder.resources(taskConfig(allocatedShares: 100)).cpu?.shares == 100)
    #expect(BundleBuilder.resources(taskConfig(allocatedShares: 100, linuxShares: 250)).cpu?.shares == 250)
    #expect(BundleBuilder.resources(taskConfig(allocatedShares: 1)).cpu?.shares == 2)
  }

  @Test func cpuQuotaAndCpuset() {
    let cpu = BundleBuilder.resources(taskConfig(memoryMB: 64, quota: 50_000, cpuset: "0-1")).cpu
    #expect(cpu == OCISpec.CPU(shares: nil, quota: 50_000, period: 100_000, cpus: "0-1", mems: nil))
    let period = BundleBuilder.resources(taskConfig(quota: 10_000, period: 20_000)).cpu
    #expect(period == OCISpec.CPU(shares: nil, quota: 10_000, period: 20_000, cpus: nil, mems: nil))
  }

  @Test func noCpuBlockWithoutCpuLimits() {
    let resources = BundleBuilder.resources(taskConfig(memoryMB: 128))
    #expect(resources.cpu == nil)
    #expect(resources.memory?.limit == 128 << 20)
    #expect(resources.pids == nil)
  }

  @Test func writeCreatesTheBundle() throws {
    let dir = TempDir("milo-bundle")
    let spec = BundleBuilder.spec(for: request(resources: taskConfig(memoryMB: 256, allocatedShares: 100)))
    let bundle = dir.path + "/bundle"
    try BundleBuilder.write(spec, to: bundle)
    var isDirectory: ObjCBool = false
    #expect(FileManager.default.fileExists(atPath: bundle + "/rootfs", isDirectory: &isDirectory))
    #expect(isDirectory.boolValue)
    let data = try Data(contentsOf: URL(fileURLWithPath: bundle + "/config.json"))
    #expect(try JSONDecoder().decode(OCISpec.self, from: data) == spec)
    let text = String(decoding: data, as: UTF8.self)
    #expect(text.contains("\"ociVersion\":\"1.0.2\""))
    #expect(
      text.contains("\"cgroupsPath\":\"\\/milo\\/milo-a1b2-web\"")
        || text.contains("\"cgroupsPath\":\"/milo/milo-a1b2-web\""))
    // Merged-/usr hosts get the same top-level links in the rootfs.
    for name in BundleBuilder.rootLinks {
      if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/" + name) {
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: bundle + "/rootfs/" + name) == target)
      }
    }
  }
}
