import Foundation
import Testing

@testable import NomadHost

@Suite struct TaskEnvironmentTests {
  static func context(isolation: FSIsolation, cores: [Int] = []) -> TaskEnvironment.Context {
    let task = TaskSpec(
      name: "web", driver: "milo", config: ["jar_path": "a.jar"],
      env: ["GREETING": "hi ${NOMAD_TASK_NAME}", "HOME": "/override", "UNKNOWN": "${nope}"],
      meta: ["team-name": "core"],
      resources: ResourcesSpec(cpu: 500, memoryMB: 256, memoryMaxMB: 512, cores: cores.count))
    let group = GroupSpec(name: "app", meta: ["tier": "front"], tasks: [task])
    let job = JobSpec(id: "hello", name: "Hello", namespace: "prod", meta: ["owner": "me"], groups: [group])
    return TaskEnvironment.Context(
      job: job, group: group, task: task, allocID: "0123abcd-1111-2222-3333-444455556666",
      allocDir: AllocDir(allocRoot: "/data/alloc", allocID: "0123abcd-1111-2222-3333-444455556666"),
      isolation: isolation, reservedCores: cores)
  }

  static var client: ClientConfig {
    var config = ClientConfig(dataDir: "/data")
    config.hostEnvironment = ["HOME": "/root", "PATH": "/usr/bin", "VAULT_TOKEN": "secret", "NOMAD_TOKEN": "x"]
    config.nodeName = "node1"
    config.cgroupMode = .v1
    return config
  }

  @Test func nomadVariables() {
    let env = TaskEnvironment.build(Self.context(isolation: .chroot, cores: [0, 1]), client: Self.client).env
    #expect(env["NOMAD_ALLOC_DIR"] == "/alloc")
    #expect(env["NOMAD_TASK_DIR"] == "/local")
    #expect(env["NOMAD_SECRETS_DIR"] == "/secrets")
    #expect(env["NOMAD_MEMORY_LIMIT"] == "256")
    #expect(env["NOMAD_MEMORY_MAX_LIMIT"] == "512")
    #expect(env["NOMAD_CPU_LIMIT"] == "500")
    #expect(env["NOMAD_CPU_CORES"] == "0-1")
    #expect(env["NOMAD_ALLOC_ID"] == "0123abcd-1111-2222-3333-444455556666")
    #expect(env["NOMAD_SHORT_ALLOC_ID"] == "0123abcd")
    #expect(env["NOMAD_ALLOC_NAME"] == "hello.app[0]")
    #expect(env["NOMAD_ALLOC_INDEX"] == "0")
    #expect(env["NOMAD_GROUP_NAME"] == "app")
    #expect(env["NOMAD_TASK_NAME"] == "web")
    #expect(env["NOMAD_JOB_ID"] == "hello")
    #expect(env["NOMAD_JOB_NAME"] == "Hello")
    #expect(env["NOMAD_JOB_PARENT_ID"] == nil)
    #expect(env["NOMAD_NAMESPACE"] == "prod")
    #expect(env["NOMAD_REGION"] == "global")
    #expect(env["NOMAD_DC"] == "dc1")
    #expect(env["NOMAD_PARENT_CGROUP"] == "/nomad")
    #expect(env["NOMAD_META_OWNER"] == "me")
    #expect(env["NOMAD_META_owner"] == "me")
    #expect(env["NOMAD_META_TIER"] == "front")
    #expect(env["NOMAD_META_TEAM_NAME"] == "core")
    #expect(env["NOMAD_META_team_name"] == "core")
  }

  @Test func hostPathsWithoutIsolation() {
    let env = TaskEnvironment.build(Self.context(isolation: .none), client: Self.client).env
    #expect(env["NOMAD_ALLOC_DIR"] == "/data/alloc/0123abcd-1111-2222-3333-444455556666/alloc")
    #expect(env["NOMAD_TASK_DIR"] == "/data/alloc/0123abcd-1111-2222-3333-444455556666/web/local")
    #expect(env["NOMAD_SECRETS_DIR"] == "/data/alloc/0123abcd-1111-2222-3333-444455556666/web/secrets")
    #expect(env["NOMAD_CPU_CORES"] == nil)
  }

  @Test func hostEnvironmentDenyListAndTaskOverrides() {
    let env = TaskEnvironment.build(Self.context(isolation: .chroot), client: Self.client).env
    #expect(env["PATH"] == "/usr/bin")
    #expect(env["VAULT_TOKEN"] == nil)
    // Nomad v1.1.2's env.denylist does not name NOMAD_TOKEN.
    #expect(env["NOMAD_TOKEN"] == "x")
    #expect(env["HOME"] == "/override")
    #expect(env["GREETING"] == "hi web")
    #expect(env["UNKNOWN"] == "${nope}")
    let image = TaskEnvironment.build(Self.context(isolation: .image), client: Self.client).env
    #expect(image["PATH"] == nil)
  }

  @Test func replaceEnvAndCleaning() {
    #expect(TaskEnvironment.replaceEnv("${a}-${b}-${c d}", ["a": "1"], ["b": "2"]) == "1-2-${c d}")
    #expect(TaskEnvironment.cleanEnvVar("NOMAD_META_a-b.c9") == "NOMAD_META_a_b.c9")
    #expect(TaskEnvironment.cleanEnvVar("9abc") == "_abc")
    #expect(TaskEnvironment.idSetString([3, 0, 1, 2, 7]) == "0-3,7")
  }

  @Test func taskConfigMirrorsBuildTaskConfig() {
    let context = Self.context(isolation: .chroot, cores: [0])
    var client = Self.client
    client.topology = HostTopology(
      nodeIDs: [0], distances: [[10]],
      cores: [
        .init(id: 0, socketID: 0, nodeID: 0, baseSpeedMHz: 0, maxSpeedMHz: 0, guessSpeedMHz: 2000),
        .init(id: 1, socketID: 0, nodeID: 0, baseSpeedMHz: 0, maxSpeedMHz: 0, guessSpeedMHz: 2000),
      ])
    let inputs = TaskConfigBuilder.Inputs(
      context: context, environment: ["A": "B"], stdoutPath: "/o.fifo", stderrPath: "/e.fifo",
      networkIsolation: TaskConfigBuilder.groupNetworkIsolation(path: NetworkNamespace.path(allocID: context.allocID)),
      msgpackDriverConfig: [0x80])
    let config = TaskConfigBuilder.build(inputs, client: client)
    let parts = config.id.split(separator: "/")
    #expect(parts.count == 3 && parts[0] == "0123abcd-1111-2222-3333-444455556666" && parts[1] == "web")
    #expect(parts[2].count == 8 && parts[2].allSatisfy(\.isHexDigit))
    #expect(
      config.name == "web" && config.jobID == "hello" && config.jobName == "Hello" && config.taskGroupName == "app")
    #expect(config.allocDir == "/data/alloc/0123abcd-1111-2222-3333-444455556666")
    #expect(config.resources.linuxResources.memoryLimitBytes == 512 * 1024 * 1024)
    #expect(config.resources.linuxResources.cpuShares == 500)
    #expect(config.resources.linuxResources.cpusetCpus == "0")
    #expect(config.resources.linuxResources.percentTicks == 0.125)
    #expect(
      config.resources.linuxResources.cpusetCgroup
        == "/sys/fs/cgroup/cpuset/nomad/reserve/0123abcd-1111-2222-3333-444455556666.web")
    #expect(config.resources.allocatedResources.memory.memoryMaxMb == 512)
    #expect(config.networkIsolationSpec.mode == .group)
    #expect(config.networkIsolationSpec.path == "/var/run/netns/0123abcd-1111-2222-3333-444455556666")
    #expect(config.stdoutPath == "/o.fifo")
    #expect(TaskConfigBuilder.build(inputs, client: client).id != config.id)
  }

  @Test func allocDirLayoutAndModes() throws {
    let dir = TempDir()
    let alloc = AllocDir(allocRoot: dir.path, allocID: "a1")
    try alloc.build()
    try alloc.buildTaskDir("web", isolation: .none, mountTmpfs: false, bindMount: false)
    func mode(_ path: String) -> mode_t {
      var info = stat()
      stat(path, &info)
      return info.st_mode & 0o7777
    }
    #expect(mode(alloc.path) == 0o755)
    #expect(mode(alloc.sharedDir) == 0o777)
    #expect(mode(alloc.logDir) == 0o777)
    #expect(mode("\(alloc.sharedDir)/tmp") == 0o777)
    #expect(mode(alloc.dataDir) == 0o777)
    let task = alloc.taskDir("web")
    #expect(mode(task.dir) == 0o777)
    #expect(mode(task.local) == 0o777)
    #expect(mode(task.tmp) == 0o1777)
    #expect(mode(task.secrets) == 0o777)
    #expect(!FileManager.default.fileExists(atPath: task.dir + "/private"), "Nomad v1.1.2 has no private dir")
  }
}
