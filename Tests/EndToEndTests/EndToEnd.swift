import Foundation
import MiloSys
import NomadE2E
import Testing

/// The end-to-end suite: the release `milo` binary in the `plugin_dir` of a real Nomad v1.1.2
/// client, driven only through Nomad's CLI and HTTP API. One server and one client agent serve
/// every nested suite (the client is restarted by one of them); they start once for the whole
/// suite and stop after it, with every job purged first.
///
/// Needs root, crun, a JDK and a `nomad` binary (`$NOMAD_BINARY`, else PATH; install one with
/// `../shared/tools/nomad/install`). Without `nomad` the suite is skipped, and says so.
@Suite(
  .serialized, .enabled(if: E2E.canRun, E2E.skipReason), NomadClusterScope())
struct EndToEnd {}

/// Paths and the running cluster the end-to-end tests share.
enum E2E {
  static let repoRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
  }()

  /// The Nomad agent binary: `$NOMAD_BINARY`, else `nomad` on PATH.
  static let nomad: String? = {
    if let path = ProcessInfo.processInfo.environment["NOMAD_BINARY"], !path.isEmpty {
      return path
    }
    return Environment.executable(named: "nomad")
  }()

  /// The plugin under test: `$MILO_RELEASE_BINARY`, else the static release build.
  static let milo: String = {
    if let path = ProcessInfo.processInfo.environment["MILO_RELEASE_BINARY"], !path.isEmpty {
      return path
    }
    return repoRoot + "/.build/milo-release/milo"
  }()

  /// Under CI the suite never skips for want of `nomad`: it fails instead.
  static var canRun: Bool { (nomad != nil || isCI) && geteuid() == 0 }

  static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

  static var skipReason: Comment {
    if nomad == nil {
      return
        "no nomad binary on PATH or in $NOMAD_BINARY: run ../shared/tools/nomad/install to run the end-to-end suite"
    }
    return "the end-to-end suite needs root (containers, a Nomad client)"
  }

  /// The cluster and the artifact server of the running suite.
  @TaskLocal static var current: Fixture?

  /// The running fixture; fails the test when the suite's scope did not provide one.
  static var fixture: Fixture {
    get throws {
      guard let current else { throw TimeoutError(what: "the Nomad cluster (not started)", seconds: 0) }
      return current
    }
  }
}

/// What the suite's scope starts: a Nomad cluster, and an HTTP server for the test JARs.
struct Fixture: Sendable {
  let cluster: NomadCluster
  let artifacts: ArtifactServer

  /// A job named `name` running the test JAR with `args` under milo.
  func job(_ name: String, _ args: [String], type: String = "service") -> JobSpec {
    var job = JobSpec(name: name, artifactURL: artifacts.url("testapp.jar"))
    job.args = args
    job.type = type
    return job
  }

  /// Waits until the task's stdout (read through the HTTP API) satisfies `condition`.
  func waitForLogs(
    _ alloc: String, task: String = "app", stderr: Bool = false, timeout: Double = 30,
    _ what: String, _ condition: (Data) -> Bool
  ) async throws -> Data {
    var last = Data()
    try await waitFor(what, timeout: timeout, every: .milliseconds(50)) {
      last = (try? await cluster.api.logs(alloc: alloc, task: task, stderr: stderr)) ?? Data()
      return condition(last)
    }
    return last
  }

  /// Waits until the allocation's task is dead and returns its final state.
  func waitForDead(_ alloc: String, task: String = "app", timeout: Double = 60) async throws
    -> TaskState
  {
    var state: TaskState?
    try await waitFor("task \(task) of \(alloc) to be dead", timeout: timeout) {
      state = try? await cluster.api.allocation(alloc).taskStates[task]
      return state?.state == "dead"
    }
    guard let state else { throw TimeoutError(what: "a task state", seconds: timeout) }
    return state
  }
}

/// Starts the cluster once around the whole `EndToEnd` suite and always stops it.
struct NomadClusterScope: SuiteTrait, TestScoping {
  var isRecursive: Bool { false }

  func provideScope(
    for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
  ) async throws {
    guard let nomad = E2E.nomad else {
      Issue.record("CI=true but no nomad binary: .ci/run installs one from ../shared/tools/nomad")
      return
    }
    guard FileManager.default.isExecutableFile(atPath: E2E.milo) else {
      Issue.record(
        "no release milo at \(E2E.milo): build it with `swift build -c release --product milo --static-swift-stdlib` (scripts/test.sh does)"
      )
      return
    }
    let jars = "/tmp/milo-e2e-artifacts"
    try? FileManager.default.createDirectory(atPath: jars, withIntermediateDirectories: true)
    let built = try await Command.check(["/bin/bash", E2E.repoRoot + "/scripts/build-testapp.sh", jars])
    _ = built
    try "print('not a jar')\n".write(toFile: jars + "/app.py", atomically: true, encoding: .utf8)
    let artifacts = try await ArtifactServer(directory: jars)
    let cluster: NomadCluster
    do {
      cluster = try NomadCluster(root: "/tmp/milo-e2e", nomad: nomad, milo: E2E.milo)
    } catch {
      await artifacts.stop()
      throw error
    }
    do {
      try await cluster.start()
    } catch {
      Issue.record("the Nomad cluster did not start: \(error)\n\(cluster.diagnostics())")
      await cluster.stop()
      await artifacts.stop()
      return
    }
    let fixture = Fixture(cluster: cluster, artifacts: artifacts)
    var failure: (any Error)?
    do {
      try await E2E.$current.withValue(fixture) { try await function() }
    } catch {
      failure = error
    }
    await cluster.stop()
    await artifacts.stop()
    if let failure { throw failure }
    let residue = HostResidue.scan(stateDir: cluster.stateDir)
    #expect(residue.isEmpty, "after the agents stopped: \(residue)")
  }
}
