import Foundation
import NomadProto
import Testing

@testable import NomadHost

@Suite struct ModelTests {
  @Test func goDurations() {
    #expect(GoDuration.format(.seconds(5)) == "5s")
    #expect(GoDuration.format(.seconds(90)) == "1m30s")
    #expect(GoDuration.format(.seconds(3600)) == "1h0m0s")
    #expect(GoDuration.format(.milliseconds(1500)) == "1.5s")
    #expect(GoDuration.format(.milliseconds(250)) == "250ms")
    #expect(GoDuration.format(.zero) == "0s")
    #expect(GoDuration.format(nanoseconds: 15_234_000_000) == "15.234s")
    #expect(GoDuration.parse("1m30s") == .seconds(90))
    #expect(GoDuration.parse("250ms") == .milliseconds(250))
    #expect(GoDuration.parse("1.5h") == .seconds(5400))
    #expect(GoDuration.parse("5") == nil)
  }

  @Test func taskEventMessages() {
    #expect(TaskEvent.killing(timeout: .seconds(5)).displayMessage == "Sent interrupt. Waiting 5s before force killing")
    #expect(
      TaskEvent.terminated(exitCode: 0, signal: 0, oomKilled: false, message: nil).displayMessage == "Exit Code: 0")
    #expect(
      TaskEvent.terminated(exitCode: 143, signal: 15, oomKilled: false, message: "boom").displayMessage
        == "Exit Code: 143, Signal: 15, Exit Message: \"boom\"")
    #expect(
      TaskEvent.restarting(delay: .seconds(15), reason: RestartTracker.reasonWithinPolicy).displayMessage
        == "Task restarting in 15s")
    #expect(
      TaskEvent.restarting(delay: .seconds(2), reason: RestartTracker.reasonDelay).displayMessage
        == "Exceeded allowed attempts, applying a delay - Task restarting in 2s")
    #expect(TaskEvent.notRestarting(reason: "Error was unrecoverable").failsTask)
    #expect(TaskEvent.driverFailure("").displayMessage == "Failed to start task")
    #expect(TaskEvent.signaling(signal: "SIGHUP", reason: "").displayMessage == "Task being sent signal SIGHUP")
    #expect(TaskEvent.siblingFailed("db").displayMessage == "Task's sibling \"db\" failed")
    #expect(TaskEvent.received().displayMessage == "Task received by client")
    #expect(TaskEvent.started().displayMessage == "Task started by client")
  }

  @Test func restartTrackerFollowsNomad() {
    let noRestarts = RestartPolicySpec(attempts: 0, interval: .seconds(60), delay: .seconds(1), mode: .fail)
    var service = RestartTracker(policy: noRestarts, jobType: .service)
    service.setExitResult(successful: true)
    #expect(service.decide() == .notRestarting)
    #expect(service.reason == "Policy allows no restarts")
    var batch = RestartTracker(policy: noRestarts, jobType: .batch)
    batch.setExitResult(successful: true)
    #expect(batch.decide() == .terminated)

    let two = RestartPolicySpec(attempts: 2, interval: .seconds(600), delay: .milliseconds(100), mode: .fail)
    var tracker = RestartTracker(policy: two, jobType: .service)
    tracker.setStartError(recoverable: false)
    #expect(tracker.decide() == .notRestarting)
    #expect(tracker.reason == "Error was unrecoverable")
    tracker.setExitResult(successful: false)
    guard case .restarting(let delay) = tracker.decide() else {
      Issue.record("expected a restart")
      return
    }
    #expect(delay >= .milliseconds(100) && delay < .milliseconds(126))
    #expect(tracker.reason == "Restart within policy")
    tracker.setExitResult(successful: false)
    _ = tracker.decide()
    tracker.setExitResult(successful: false)
    #expect(tracker.decide() == .notRestarting)
    #expect(tracker.reason == "Exceeded allowed attempts 2 in interval 10m0s and mode is \"fail\"")
    tracker.setKilled()
    #expect(tracker.decide() == .killed)

    var batchOK = RestartTracker(policy: two, jobType: .batch)
    batchOK.setExitResult(successful: true)
    #expect(batchOK.decide() == .terminated)
    #expect(batchOK.reason == "Restart unnecessary as task terminated successfully")
  }

  @Test func jobFileParsing() throws {
    let job = try JobFile.parse(
      """
      {"Job": {"ID": "hello", "Type": "batch", "Meta": {"a": "b"},
        "TaskGroups": [{"Name": "g", "Networks": [{"Mode": "bridge"}],
          "RestartPolicy": {"Attempts": 1, "Interval": "1m", "Delay": 2000000000, "Mode": "delay"},
          "Tasks": [{"Name": "t", "Driver": "milo", "User": "app",
            "Config": {"jvm_options": ["-Xmx1g"], "ratio": 0.5, "n": 3, "on": true},
            "Env": {"X": "1"}, "Artifacts": [{"GetterSource": "/tmp/app.jar"}],
            "Resources": {"CPU": 250, "MemoryMB": 128, "MemoryMaxMB": 256, "Cores": 1},
            "KillTimeout": "10s", "KillSignal": "SIGTERM",
            "LogConfig": {"MaxFiles": 3, "MaxFileSizeMB": 2, "Disabled": false}}]}]}}
      """)
    #expect(job.id == "hello" && job.name == "hello" && job.type == .batch && job.meta == ["a": "b"])
    let group = try #require(job.groups.first)
    #expect(group.networkMode == .bridge)
    #expect(
      group.restartPolicy == RestartPolicySpec(attempts: 1, interval: .seconds(60), delay: .seconds(2), mode: .delay))
    let task = try #require(group.tasks.first)
    #expect(task.driver == "milo" && task.user == "app" && task.env == ["X": "1"])
    #expect(task.config?["jvm_options"] == ["-Xmx1g"])
    #expect(task.config?["ratio"] == .float(0.5))
    #expect(task.config?["n"] == .int(3))
    #expect(task.config?["on"] == true)
    #expect(task.artifacts == [ArtifactSpec(source: "/tmp/app.jar", destination: "local/")])
    #expect(task.resources == ResourcesSpec(cpu: 250, memoryMB: 128, memoryMaxMB: 256, cores: 1))
    #expect(task.killTimeout == .seconds(10) && task.killSignal == "SIGTERM")
    #expect(task.logs == LogConfigSpec(maxFiles: 3, maxFileSizeMB: 2, disabled: false))

    let bare = try JobFile.parse(
      #"{"ID": "j", "TaskGroups": [{"Name": "g", "Tasks": [{"Name": "t", "Driver": "d"}]}]}"#)
    let bareTask = try #require(bare.groups.first?.tasks.first)
    #expect(bareTask.config == nil)
    #expect(bareTask.killTimeout == .seconds(5) && bareTask.killSignal == "")
    #expect(bareTask.logs == LogConfigSpec())
    #expect(throws: (any Error).self) { try JobFile.parse(#"{"Job": {"ID": "j", "TaskGroups": []}}"#) }
  }

  @Test func goVersions() throws {
    #expect(try GoVersion("0.1.0").isEqual(to: GoVersion("v0.1")))
    #expect(try !GoVersion("0.1.0").isEqual(to: GoVersion("0.1.1")))
    #expect(try GoVersion("1.2.0").isGreater(than: GoVersion("1.2.0-beta1")))
    #expect(throws: ConfigError.self) { try GoVersion("one") }
    #expect((try? GoVersion("bad version"))?.original == nil)
  }

  @Test func recoverableDetailIsRead() {
    // google.rpc.Status{code: 9, message: "m", details: [Any{type_url, value: RecoverableError{true}}]}
    let typeURL = Array("type.googleapis.com/hashicorp.nomad.plugins.shared.structs.RecoverableError".utf8)
    let value: [UInt8] = [0x08, 0x01]
    let any: [UInt8] = [0x0a, UInt8(typeURL.count)] + typeURL + [0x12, UInt8(value.count)] + value
    let status: [UInt8] = [0x08, 0x09, 0x12, 0x01, UInt8(ascii: "m"), 0x1a, UInt8(any.count)] + any
    #expect(StatusDetails.recoverable(statusBytes: status) == true)
    #expect(StatusDetails.recoverable(statusBytes: [0x08, 0x09]) == nil)
    let error = PluginCallError.rpc(code: .failedPrecondition, message: "no java", recoverable: true)
    #expect(error.isRecoverable)
    #expect(error.description == "rpc error: code = FailedPrecondition desc = no java")
    #expect(!PluginCallError.rpc(code: .unknown, message: "x", recoverable: nil).isRecoverable)
    #expect(PluginCallError.pluginShutdown.description == "plugin is shut down")
  }

  @Test func driverInfoFromFingerprint() {
    var response = FingerprintResponseProto()
    response.health = .healthy
    response.healthDescription = "Healthy"
    var attribute = Hashicorp_Nomad_Plugins_Shared_Structs_Attribute()
    attribute.value = .boolVal(true)
    response.attributes["driver.milo"] = attribute
    var memory = Hashicorp_Nomad_Plugins_Shared_Structs_Attribute()
    memory.value = .intVal(512)
    memory.unit = "MiB"
    response.attributes["driver.milo.mem"] = memory
    let info = DriverInfo(response)
    #expect(info.detected && info.healthy && info.usable)
    #expect(info.attributes == ["driver.milo": "true", "driver.milo.mem": "512MiB"])
    #expect(DriverInfo.goFloat(3) == "3" && DriverInfo.goFloat(1.5) == "1.5")
    #expect(!DriverInfo.fingerprintFailed().healthy)
  }

  @Test func artifactsAreCopiedKeepingTheName() throws {
    let dir = TempDir()
    dir.write("app.jar", "jar")
    dir.makeDirectory("task")
    let copied = try ArtifactFetcher.fetch(
      ArtifactSpec(source: "file://" + dir.file("app.jar")), taskDir: dir.file("task"))
    #expect(copied == dir.file("task/local/app.jar"))
    #expect(dir.readText("task/local/app.jar") == "jar")
    #expect(throws: ArtifactError.self) {
      try ArtifactFetcher.fetch(ArtifactSpec(source: dir.file("missing.jar")), taskDir: dir.file("task"))
    }
    #expect(throws: ArtifactError.self) {
      try ArtifactFetcher.fetch(
        ArtifactSpec(source: dir.file("app.jar"), destination: "../../x"), taskDir: dir.file("task"))
    }
  }

  @Test func stateStoreRoundTrips() throws {
    let dir = TempDir()
    let store = TaskStateStore(directory: dir.path)
    var handle = TaskHandleProto()
    handle.version = 1
    handle.config.id = "a/b/c"
    handle.driverState = Data([1, 2, 3])
    var state = TaskState()
    state.state = .running
    state.events = [.received(), .killing(timeout: .seconds(5))]
    try store.save(
      PersistedTask(
        taskName: "web", driver: "milo", taskID: "a/b/c", handle: handle.serializedData, state: state,
        runComplete: false))
    let loaded = try store.loadTask("web")
    #expect(loaded.taskHandle == handle)
    #expect(loaded.state.state == .running)
    #expect(loaded.state.events.last?.displayMessage == "Sent interrupt. Waiting 5s before force killing")
  }
}
