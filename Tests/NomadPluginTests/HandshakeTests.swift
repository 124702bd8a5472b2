import NomadPlugin
import Testing

/// The ParseError `line` gets, recording an issue if it parses.
private func parseError(_ line: String, supported: Set<Int> = [2], sourceLocation: SourceLocation = #_sourceLocation)
  -> String?
{
  do {
    let parsed = try Handshake.parse(line, supportedAppVersions: supported)
    Issue.record("expected a parse error, got \(parsed)", sourceLocation: sourceLocation)
    return nil
  } catch {
    return error.description
  }
}

@Suite struct HandshakeTests {
  @Test func constants() {
    #expect(Handshake.magicCookieKey == "NOMAD_PLUGIN_MAGIC_COOKIE")
    #expect(Handshake.magicCookieValue == "e4327c2e01eabfd75a8a67adb114fb34a757d57eee7728d857a8cec6e91a7255")
    #expect(Handshake.coreProtocolVersion == 1)
    #expect(Handshake.appProtocolVersion == 2)
  }

  @Test func line() {
    #expect(
      Handshake.line(network: "unix", address: "/tmp/plugin123/plugin.sock")
        == "1|2|unix|/tmp/plugin123/plugin.sock|grpc\n")
    #expect(Handshake.line(network: "tcp", address: "127.0.0.1:10000") == "1|2|tcp|127.0.0.1:10000|grpc\n")
  }

  @Test func parsesItsOwnLine() throws {
    let parsed = try Handshake.parse(Handshake.line(network: "unix", address: "/tmp/p/plugin.sock"))
    #expect(parsed.coreVersion == 1)
    #expect(parsed.appVersion == 2)
    #expect(parsed.network == "unix")
    #expect(parsed.address == "/tmp/p/plugin.sock")
    #expect(parsed.proto == "grpc")
  }

  @Test func parsesWithoutTrailingNewlineAndTCP() throws {
    let parsed = try Handshake.parse("1|2|tcp|127.0.0.1:4000|grpc")
    #expect(parsed.network == "tcp")
    #expect(parsed.address == "127.0.0.1:4000")
    #expect(parsed.proto == "grpc")
  }

  @Test func extraFieldsAreIgnored() throws {
    // go-plugin 1.5+ may append a base64 server certificate as a sixth field.
    let parsed = try Handshake.parse("1|2|unix|/s.sock|grpc|MIIBcert\n")
    #expect(parsed.address == "/s.sock")
  }

  @Test func otherSupportedAppVersion() throws {
    #expect(try Handshake.parse("1|3|unix|/s|grpc\n", supportedAppVersions: [2, 3]).appVersion == 3)
  }

  @Test func wrongCoreVersion() {
    #expect(parseError("2|2|unix|/s|grpc\n") == "Incompatible core API version with plugin: 2")
    #expect(parseError("x|2|unix|/s|grpc\n") == "Incompatible core API version with plugin: x")
  }

  @Test func unsupportedAppVersion() {
    #expect(parseError("1|1|unix|/s|grpc\n") == "Incompatible API version with plugin: 1")
    #expect(parseError("1||unix|/s|grpc\n") == "Incompatible API version with plugin: ")
  }

  @Test func unknownNetwork() {
    #expect(parseError("1|2|udp|/s|grpc\n") == "Unknown address type: udp")
  }

  @Test func missingProtocolMeansNetRPCAndIsRejected() {
    #expect(parseError("1|2|unix|/s\n") == "Unsupported plugin protocol netrpc; expected grpc")
    #expect(parseError("1|2|unix|/s|netrpc\n") == "Unsupported plugin protocol netrpc; expected grpc")
  }

  @Test func tooFewFields() {
    #expect(parseError("hello world\n") == "Unrecognized remote plugin message: hello world")
    #expect(parseError("1|2|unix") == "Unrecognized remote plugin message: 1|2|unix")
    #expect(parseError("") == "Unrecognized remote plugin message: ")
  }

  @Test func carriageReturnLineEnding() throws {
    // go-plugin trims surrounding white space (strings.TrimSpace) before splitting.
    let parsed = try Handshake.parse("  1|2|unix|/s|grpc\r\n")
    #expect(parsed.proto == "grpc")
    #expect(parsed.address == "/s")
  }
}
