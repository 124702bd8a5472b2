import Foundation
import MiloSupervisor
import NomadHost
import NomadPlugin
import NomadProto
import Testing

/// Issue 3: bad task inputs fail StartTask with a clear message, also in the task's stderr log,
/// and no container is ever created.
@Suite(.serialized, .enabled(if: Fixtures.canRunContainers, "needs root, crun, a JDK and the milo binary"))
struct ValidationTests {
  /// Runs a task expected to fail at StartTask; returns the Driver Failure text and stderr log.
  func failingStart(_ name: String, _ task: TaskSpec, harness: MiloHarness) async throws -> (String, String) {
    let (alloc, runner) = try await harness.run(task, type: .batch)
    let final = await runner.waitUntilDone()
    #expect(final.failed, "\(final.summary)")
    #expect(!final.events.contains { $0.type == TaskEvent.Kind.started })
    let failure = final.events.first { $0.type == TaskEvent.Kind.driverFailure }?.displayMessage ?? ""
    let stderr = String(decoding: try await harness.logs(alloc, type: .stderr), as: UTF8.self)
    await alloc.destroy(removeFiles: true)
    return (failure, stderr)
  }

  func expectNoContainer(_ harness: MiloHarness) {
    #expect(harness.residue().isEmpty, "\(harness.residue())")
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: harness.stateDir + "/tasks")) ?? []
    #expect(tasks.isEmpty, "task state dirs: \(tasks)")
  }

  @Test func anArtifactThatIsNotAJar() async throws {
    try await withMiloHarness("notjar") { harness in
      let dir = Fixtures.temporaryDirectory("notjar")
      let script = Fixtures.write("print('hi')\n", to: dir + "/my-script.py")
      let (failure, stderr) = try await failingStart(
        "notjar", MiloHarness.testAppTask(["hello"], artifact: script), harness: harness)
      #expect(failure.contains("code = InvalidArgument"), "\(failure)")
      #expect(failure.contains("Error: Artifact must be a .jar file, got: my-script.py"), "\(failure)")
      #expect(failure.contains("Suggestion: "))
      #expect(stderr.contains("Error: Artifact must be a .jar file, got: my-script.py"), "\(stderr)")
      expectNoContainer(harness)
    }
  }

  @Test func noJarAtAll() async throws {
    try await withMiloHarness("nojar") { harness in
      let (failure, stderr) = try await failingStart(
        "nojar", MiloHarness.testAppTask(["hello"], artifact: ""), harness: harness)
      #expect(failure.contains("Error: No JAR found for the task"), "\(failure)")
      #expect(failure.contains("Got: local/ is empty"), "\(failure)")
      #expect(stderr.contains("Error: No JAR found for the task"))
      expectNoContainer(harness)
    }
  }

  @Test func aJarThatIsNotAZipFile() async throws {
    try await withMiloHarness("badzip") { harness in
      let dir = Fixtures.temporaryDirectory("badzip")
      let fake = Fixtures.write("<html>not found</html>\n", to: dir + "/app.jar")
      let (failure, _) = try await failingStart(
        "badzip", MiloHarness.testAppTask(["hello"], artifact: fake), harness: harness)
      #expect(failure.contains("Error: local/app.jar is not a JAR (zip) file"), "\(failure)")
      expectNoContainer(harness)
    }
  }

  @Test(arguments: [
    (["jar_path": MsgpackValue.string("../../../etc/passwd")], "Error: jar_path escapes the task directory"),
    (
      ["jar_path": MsgpackValue.string("local/testapp.jar"), "class": .string("milo.TestApp")],
      "Error: both jar_path and class are set"
    ),
    (["java_version": MsgpackValue.string("11")], "Error: Java 11 is not installed on this host"),
    (["cap_add": MsgpackValue.array([.string("sys_admin")])], "Error: capability sys_admin is not allowed"),
  ])
  func badOptions(config: [String: MsgpackValue], expected: String) async throws {
    try await withMiloHarness("badopt") { harness in
      let (failure, stderr) = try await failingStart(
        "badopt", MiloHarness.testAppTask(["hello"], extraConfig: config), harness: harness)
      #expect(failure.contains(expected), "\(failure)")
      #expect(stderr.contains(expected), "\(stderr)")
      #expect(failure.contains("Expected: ") && failure.contains("Got: ") && failure.contains("Suggestion: "))
      expectNoContainer(harness)
    }
  }

  @Test func severalJarsWithoutJarPath() async throws {
    try await withMiloHarness("twojars") { harness in
      let task = MiloHarness.testAppTask(["hello"])
      var withTwo = task
      let dir = Fixtures.temporaryDirectory("twojars")
      let copy = dir + "/other.jar"
      try FileManager.default.copyItem(atPath: Fixtures.testAppJar, toPath: copy)
      withTwo.artifacts.append(ArtifactSpec(source: copy))
      let (failure, _) = try await failingStart("twojars", withTwo, harness: harness)
      #expect(failure.contains("Error: several JARs found in local/ and no jar_path set"), "\(failure)")
      #expect(failure.contains("Got: other.jar, testapp.jar"), "\(failure)")
      expectNoContainer(harness)
    }
  }

  /// With no Java on the host the node's driver is unhealthy (Nomad would not place the job),
  /// and StartTask itself refuses with the same explanation.
  @Test func noJavaOnTheHost() async throws {
    let stateDir = "/run/milo-it-nojava-\(UUID().uuidString.prefix(6))"
    let emptyJVMs = Fixtures.temporaryDirectory("nojava")
    var options = PluginLaunchOptions()
    options.baseEnvironment = ["PATH=/nonexistent"]
    let plugin = try await PluginClient.launch(path: Fixtures.miloBinary, options: options)
    defer { Task { await plugin.kill() } }
    let spec = try #require(try await plugin.configSchema())
    let bytes = try ConfigEncoder.encodePluginConfig(
      [
        "state_dir": .string(stateDir), "runtime_path": .string("/usr/bin/crun"),
        "java_search_paths": .array([.string(emptyJVMs)]),
      ], spec: spec)
    try await plugin.setConfig(msgpack: bytes, nomadConfig: NomadConfigProto())
    var fingerprints = plugin.fingerprint().makeAsyncIterator()
    let fingerprint = try #require(try await fingerprints.next())
    #expect(fingerprint.health == .unhealthy)
    #expect(fingerprint.healthDescription.contains("No Java runtime found on host"), "\(fingerprint.healthDescription)")
    #expect(fingerprint.healthDescription.contains("apt-get install openjdk"))

    // StartTask directly, as Nomad would if it placed the task anyway.
    let allocDir = Fixtures.temporaryDirectory("nojava-alloc")
    for dir in ["alloc/logs", "app/local", "app/secrets", "app/tmp"] {
      try FileManager.default.createDirectory(atPath: allocDir + "/" + dir, withIntermediateDirectories: true)
    }
    try FileManager.default.copyItem(atPath: Fixtures.testAppJar, toPath: allocDir + "/app/local/app.jar")
    let stderrPath = Fixtures.write("", to: allocDir + "/alloc/logs/app.stderr")
    let taskSpec = try #require(try await plugin.taskConfigSchema())
    var config = TaskConfigProto()
    config.id = "alloc-nojava/app/0000abcd"
    config.name = "app"
    config.allocDir = allocDir
    config.stdoutPath = "/dev/null"
    config.stderrPath = stderrPath
    config.msgpackDriverConfig = Data(
      try ConfigEncoder.encodeTaskConfig(
        ["jvm_options": .array([.string("-Xmx32m")])], spec: taskSpec, variables: HCLVariables()))
    let error = await #expect(throws: PluginCallError.self) { try await plugin.startTask(config) }
    let text = error.map { "\($0)" } ?? ""
    #expect(text.contains("No Java runtime found on host"), "\(text)")
    #expect(text.contains(emptyJVMs), "the message lists what was searched: \(text)")
    let logged = try String(contentsOfFile: stderrPath, encoding: .utf8)
    #expect(logged.contains("No Java runtime found on host"))
    #expect(HostResidue.scan(stateDir: stateDir, allocIDs: ["alloc-nojava"]).isEmpty)
    try? FileManager.default.removeItem(atPath: allocDir)
    try? FileManager.default.removeItem(atPath: stateDir)
  }

  @Test func recoverTaskWithUnknownOrCorruptStateGetsAClearError() async throws {
    let plugin = try await PluginClient.launch(path: Fixtures.miloBinary)
    defer { Task { await plugin.kill() } }
    try await plugin.setConfig(msgpack: [], nomadConfig: NomadConfigProto())
    for (state, expected) in [
      (Data(), "carries no milo driver state"), (Data("garbage".utf8), "is corrupt"),
      (Data(#"{"version": 99}"#.utf8), "format version 99"),
    ] {
      var handle = TaskHandleProto()
      handle.version = 1
      handle.config.id = "a/b/c"
      handle.driverState = state
      let error = await #expect(throws: PluginCallError.self) {
        try await plugin.recoverTask(taskID: "a/b/c", handle: handle)
      }
      #expect("\(error.map { "\($0)" } ?? "")".contains(expected))
    }
    #expect(plugin.isRunning)
  }
}
