import Foundation
import NomadE2E
import Testing

extension EndToEnd {
  /// What a Java developer does first: run a JAR, read exact logs, see exit codes and errors.
  @Suite struct Stories {
    @Test("a batch JAR exits 0 with exactly its output, and a JAR's exit 42 is reported")
    func exitCodes() async throws {
      let fixture = try E2E.fixture
      try await fixture.cluster.run(fixture.job("hello", ["hello"], type: "batch"))
      try await fixture.cluster.run(fixture.job("exit42", ["exit", "42"], type: "batch"))
      let hello = try await fixture.cluster.firstAllocation(of: "hello")
      let failing = try await fixture.cluster.firstAllocation(of: "exit42")

      let helloState = try await fixture.waitForDead(hello)
      #expect(!helloState.failed)
      #expect(helloState.events.contains { $0.type == "Terminated" && $0.exitCode == 0 })
      let logs = try await fixture.cluster.api.logs(alloc: hello, task: "app")
      #expect(String(decoding: logs, as: UTF8.self) == "Hello from milo\nGoodbye from milo\n")

      let failedState = try await fixture.waitForDead(failing)
      #expect(failedState.failed)
      #expect(
        failedState.events.contains { $0.type == "Terminated" && $0.exitCode == 42 },
        "events: \(failedState.events)")
      let status = try await fixture.cluster.cli(["alloc", "status", failing])
      #expect(status.output.contains("Exit Code: 42"), "\(status.output)")
    }

    @Test("a host volume written by one allocation is read by the next; a read-only mount refuses writes")
    func hostVolumes() async throws {
      let fixture = try E2E.fixture
      let volume = [
        #"volume "data" {"#, #"  type = "host""#, #"  source = "milo-data""#, "}",
      ]
      let token = "written-by-milo-\(UUID().uuidString)"
      var writer = fixture.job("vol-writer", ["write", "/srv/data/greeting.txt", token], type: "batch")
      writer.extraGroup = volume
      writer.extraTask = [#"volume_mount {"#, #"  volume = "data""#, #"  destination = "/srv/data""#, "}"]
      try await fixture.cluster.run(writer)
      let written = try await fixture.waitForDead(try await fixture.cluster.firstAllocation(of: "vol-writer"))
      #expect(!written.failed, "events: \(written.events)")
      let onHost = try String(contentsOfFile: fixture.cluster.dataVolumePath + "/greeting.txt", encoding: .utf8)
      #expect(onHost == token + "\n")

      // The next allocation, of another job, reads what the first left in the volume.
      var reader = fixture.job("vol-reader", ["read", "/srv/data/greeting.txt"], type: "batch")
      reader.extraGroup = volume
      reader.extraTask = writer.extraTask
      try await fixture.cluster.run(reader)
      let readerAlloc = try await fixture.cluster.firstAllocation(of: "vol-reader")
      #expect(!(try await fixture.waitForDead(readerAlloc)).failed)
      let read = try await fixture.cluster.api.logs(alloc: readerAlloc, task: "app")
      #expect(String(decoding: read, as: UTF8.self) == token + "\n")

      // Mounted read-only: the write fails, and the task's stderr says why.
      var readOnly = fixture.job("vol-readonly", ["write", "/srv/data/other.txt", "nope"], type: "batch")
      readOnly.extraGroup = volume
      readOnly.extraTask = [
        #"volume_mount {"#, #"  volume = "data""#, #"  destination = "/srv/data""#, "  read_only = true", "}",
      ]
      try await fixture.cluster.run(readOnly)
      let readOnlyAlloc = try await fixture.cluster.firstAllocation(of: "vol-readonly")
      let refused = try await fixture.waitForDead(readOnlyAlloc)
      #expect(refused.failed && refused.events.contains { $0.type == "Terminated" && $0.exitCode == 1 })
      let stderr = String(
        decoding: try await fixture.cluster.api.logs(alloc: readOnlyAlloc, task: "app", stderr: true), as: UTF8.self)
      print("read-only volume write: \(stderr)")
      #expect(
        stderr.contains("cannot write /srv/data/other.txt") && stderr.contains("Read-only file system"), "\(stderr)")
      #expect(!FileManager.default.fileExists(atPath: fixture.cluster.dataVolumePath + "/other.txt"))
    }

    @Test("bad input fails the task with an explanation in alloc status, and leaves nothing")
    func badInputIsExplained() async throws {
      let fixture = try E2E.fixture
      var python = JobSpec(name: "notajar", artifactURL: fixture.artifacts.url("app.py"))
      python.type = "batch"
      var traversal = fixture.job("traversal", ["hello"], type: "batch")
      traversal.extraConfig = [#"jar_path = "../../../../etc/passwd""#]
      var version = fixture.job("java99", ["hello"], type: "batch")
      version.extraConfig = [#"java_version = "99""#]
      for job in [python, traversal, version] { try await fixture.cluster.run(job) }
      for job in ["notajar", "traversal", "java99"] {
        let alloc = try await fixture.cluster.firstAllocation(of: job)
        let state = try await fixture.waitForDead(alloc)
        #expect(state.failed, "\(job)")
        // StartTask refused the task, so it never started: Nomad has no logs for it, and the
        // explanation is the "Driver Failure" event that `nomad alloc status` shows.
        let failure = state.events.first { $0.type == "Driver Failure" }
        print("\(job): \(failure?.message ?? "no Driver Failure event")")
        let message = failure?.message ?? ""
        #expect(message.contains("Error:") && message.contains("Suggestion:"), "\(job) events: \(state.events)")
        let status = try await fixture.cluster.cli(["alloc", "status", alloc])
        #expect(status.output.contains("Driver Failure"), "\(status.output)")
      }
      let residue = HostResidue.scan(stateDir: fixture.cluster.stateDir)
      #expect(residue.containers.isEmpty && residue.taskStateDirs.isEmpty, "\(residue)")
    }

    @Test("binary output, a 10 MiB line and a partial line reach Nomad's logs byte for byte")
    func logShapes() async throws {
      let fixture = try E2E.fixture
      let jar = fixture.artifacts.directory + "/testapp.jar"
      try await fixture.cluster.run(fixture.job("binary", ["binary", "3000000", "7"], type: "batch"))
      try await fixture.cluster.run(
        fixture.job("longline", ["longline", "\(10 << 20)"], type: "batch"))
      try await fixture.cluster.run(fixture.job("prompt", ["prompt"]))

      for (job, args) in [("binary", ["binary", "3000000", "7"]), ("longline", ["longline", "\(10 << 20)"])] {
        let alloc = try await fixture.cluster.firstAllocation(of: job)
        let state = try await fixture.waitForDead(alloc, timeout: 90)
        #expect(!state.failed, "\(job): \(state.events)")
        let expected = try await Command.check(["java", "-jar", jar] + args).stdout
        let got = try await fixture.cluster.api.logs(alloc: alloc, task: "app")
        #expect(got.count == expected.count, "\(job): \(got.count) bytes, expected \(expected.count)")
        #expect(got == expected, "\(job): bytes differ")
      }

      // A prompt without a newline is shown while the app waits, not held back.
      let prompt = try await fixture.cluster.firstAllocation(of: "prompt")
      let shown = try await fixture.waitForLogs(prompt, timeout: 10, "the partial line") {
        !$0.isEmpty
      }
      #expect(String(decoding: shown, as: UTF8.self) == "Enter name: ")
      try await fixture.cluster.stopJob("prompt")
    }
  }
}
