import Foundation
import Testing

@testable import NomadHost

@Suite struct HandshakeParsingTests {
  private func error(
    _ line: String, closed: Bool = false, sourceLocation: SourceLocation = #_sourceLocation
  ) -> String? {
    caught(PluginStartError.self, sourceLocation: sourceLocation) {
      try PluginHandshake.parse(line, stdoutClosed: closed, diagnostics: "")
    }?.description
  }

  @Test func acceptsGoPluginLines() throws {
    let parsed = try PluginHandshake.parse("  1|2|unix|/tmp/plugin123|grpc|\n")
    #expect(
      parsed
        == PluginHandshake(
          coreProtocol: 1, appProtocol: 2, network: "unix", address: "/tmp/plugin123", protocolName: "grpc"))
    let tcp = try PluginHandshake.parse("1|2|tcp|127.0.0.1:10000|grpc")
    #expect(tcp.tcpHostPort?.host == "127.0.0.1" && tcp.tcpHostPort?.port == 10000)
  }

  @Test func rejectsWithGoPluginTexts() {
    #expect(error("hello") == "Unrecognized remote plugin message: hello")
    #expect(
      error("", closed: true) == "Unrecognized remote plugin message: \nFailed to read any lines from plugin's stdout")
    #expect(
      error("x|2|unix|/s|grpc") == "error parsing core protocol version: strconv.Atoi: parsing \"x\": invalid syntax")
    #expect(
      error("2|2|unix|/s|grpc")?.hasPrefix(
        "incompatible core API version with plugin. Plugin version: 2, Core version: 1") == true)
    #expect(
      error("1|3|unix|/s|grpc") == "incompatible API version with plugin. Plugin version: 3, Client versions: [2]")
    #expect(
      error("1|v|unix|/s|grpc") == "Error parsing protocol version \"v\": strconv.Atoi: parsing \"v\": invalid syntax")
    #expect(error("1|2|udp|/s|grpc") == "unknown address type: /s")
    #expect(error("1|2|unix|/s") == "unsupported plugin protocol \"netrpc\". Supported: [grpc]")
    #expect(error("1|2|unix|/s|netrpc") == "unsupported plugin protocol \"netrpc\". Supported: [grpc]")
    #expect(error("1|2|tcp|nohost|grpc") == "address nohost: missing port in address")
  }

  @Test func environmentIsHostEnvPlusHandshake() {
    let env = PluginEnvironment.build(base: ["A=1", "PLUGIN_MIN_PORT=1", "B=2"])
    #expect(
      env == [
        "A=1", "B=2", "NOMAD_PLUGIN_MAGIC_COOKIE=e4327c2e01eabfd75a8a67adb114fb34a757d57eee7728d857a8cec6e91a7255",
        "PLUGIN_MIN_PORT=10000", "PLUGIN_MAX_PORT=25000", "PLUGIN_PROTOCOL_VERSIONS=2",
      ])
  }

  @Test func stderrClassification() {
    var classifier = PluginLogClassifier()
    let json = classifier.classify(
      bytes(
        #"{"@level":"warn","@message":"disk low","@module":"milo","@timestamp":"2024-01-02T03:04:05.123456Z","free":12}"#
      ))
    #expect(json.isJSON && json.level == .warn && json.message == "disk low" && json.module == "milo")
    #expect(json.fields["free"] == "12")
    let badStamp = classifier.classify(bytes(#"{"@level":"error","@message":"x","@timestamp":"2024-01-02T03:04:05Z"}"#))
    #expect(!badStamp.isJSON && badStamp.level == .debug)
    let noLevel = classifier.classify(bytes(#"{"@message":"x"}"#))
    #expect(noLevel.isJSON && noLevel.level == .debug && noLevel.message == #"{"@message":"x"}"#)
    #expect(classifier.classify(bytes(#"{"@message":5}"#)).wouldPanicNomad)
    #expect(classifier.classify(bytes("[WARN] careful")).level == .warn)
    #expect(classifier.classify(bytes("plain")).level == .debug)
    #expect(classifier.classify(bytes("panic: boom")).level == .error)
    #expect(classifier.classify(bytes("goroutine 1 [running]:")).level == .error)
    #expect(PluginLogClassifier.isGoTimestamp("2024-01-02T03:04:05.000000+02:00"))
    #expect(!PluginLogClassifier.isGoTimestamp("2024-01-02T03:04:05.000+02:00"))
  }
}

@Suite struct PluginProcessTests {
  @Test func launchesAStubAndParsesItsHandshake() async throws {
    let dir = TempDir()
    let stub = dir.script(
      "stub",
      """
      env > \(dir.file("env.txt"))
      echo '{"@level":"info","@message":"starting","@module":"stub","@timestamp":"2024-01-02T03:04:05.000000Z"}' >&2
      echo 'plain stderr line' >&2
      printf '1|2|unix|\(dir.file("plugin.sock"))|grpc|\\n'
      echo 'ignored later stdout'
      exec sleep 30
      """)
    let echoed = Collected()
    var options = PluginLaunchOptions(baseEnvironment: ["FROM_AGENT=yes"], startTimeout: .seconds(10))
    options.onStderr = { line in Task { await echoed.append(bytes(line.message + "\n")) } }
    let process = try await PluginProcess.launch(path: stub, options: options)
    #expect(process.handshake.network == "unix")
    #expect(process.handshake.address == dir.file("plugin.sock"))
    #expect(process.isRunning)
    #expect(await eventually { process.stderrLines.count == 2 })
    #expect(process.stderrLines.first?.level == .info && process.stderrLines.first?.module == "stub")
    #expect(process.stderrLines.last?.message == "plain stderr line")
    let env = dir.readText("env.txt")
    #expect(env.contains("NOMAD_PLUGIN_MAGIC_COOKIE=e4327c2e01eabfd75a8a67adb114fb34a757d57eee7728d857a8cec6e91a7255"))
    #expect(env.contains("PLUGIN_PROTOCOL_VERSIONS=2"))
    #expect(env.contains("PLUGIN_MIN_PORT=10000"))
    #expect(env.contains("PLUGIN_MAX_PORT=25000"))
    #expect(env.contains("FROM_AGENT=yes"))
    #expect(process.sigkill())
    #expect(await process.waitForExit() == .signaled(SIGKILL))
    #expect(!process.isRunning)
  }

  @Test func rejectsABadLineAndKillsThePlugin() async throws {
    let dir = TempDir()
    let stub = dir.script("bad", "echo 'not a handshake'\nexec sleep 30")
    let error = await caught(PluginStartError.self) {
      try await PluginProcess.launch(path: stub, options: PluginLaunchOptions(startTimeout: .seconds(10)))
    }
    let text = error?.description ?? ""
    #expect(text.hasPrefix("Unrecognized remote plugin message: not a handshake\nThis usually means\n"))
    #expect(text.contains("  Path: \(stub)\n  Mode: -rwxr-xr-x\n"))
  }

  @Test func reportsAPluginThatPrintsNothing() async throws {
    let dir = TempDir()
    let stub = dir.script("silent", "echo 'This binary is a plugin.' >&2\nexit 1")
    let error = await caught(PluginStartError.self) {
      try await PluginProcess.launch(path: stub, options: PluginLaunchOptions(startTimeout: .seconds(10)))
    }
    #expect(
      error?.description.hasPrefix(
        "Unrecognized remote plugin message: \nFailed to read any lines from plugin's stdout\nThis usually means")
        == true)
  }

  @Test func timesOutLikeGoPlugin() async throws {
    let dir = TempDir()
    let stub = dir.script("slow", "echo $$ > \(dir.file("pid"))\nexec sleep 30")
    let start = ContinuousClock.now
    let error = await caught(PluginStartError.self) {
      try await PluginProcess.launch(path: stub, options: PluginLaunchOptions(startTimeout: .milliseconds(300)))
    }
    #expect(error?.description == "timeout while waiting for plugin to start")
    #expect(ContinuousClock.now - start < .seconds(3))
    // The plugin was SIGKILLed.
    let pid = Int32(dir.readText("pid").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    #expect(await eventually { kill(pid, 0) != 0 })
  }

  @Test func execFailureReadsLikeGo() async throws {
    let error = await caught(PluginStartError.self) { try await PluginProcess.launch(path: "/nonexistent/plugin") }
    #expect(error?.description == "fork/exec /nonexistent/plugin: no such file or directory")
  }
}
