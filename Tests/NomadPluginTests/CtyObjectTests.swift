import NomadPlugin
import Testing

/// The error `body` throws, recording an issue if it succeeds.
private func ctyError<T>(
  sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> T
) -> String? {
  do {
    let value = try body()
    Issue.record("expected an error, got \(value)", sourceLocation: sourceLocation)
    return nil
  } catch let error as CtyError {
    return error.description
  } catch {
    Issue.record("expected a CtyError, got \(error)", sourceLocation: sourceLocation)
    return nil
  }
}

@Suite struct CtyObjectTests {
  /// A config shaped like what Nomad sends for a schema with these attributes.
  private func sampleConfig() throws -> CtyObject {
    let mount = try Cty.object(
      attributeNames: ["source", "target", "readonly"],
      values: ["source": "/a", "target": "/b", "readonly": true])
    let value = try Cty.object(
      attributeNames: [
        "name", "args", "count", "ratio", "enabled", "env", "mount", "unset", "unknown",
        "fraction", "dynamic", "single",
      ],
      values: [
        "name": "svc",
        "args": Cty.stringList(["-v", "--x"]),
        "count": 3,
        "ratio": Cty.number(1.5),
        "enabled": true,
        "env": Cty.map(["B": "2", "A": "1"]),
        "mount": [mount],
        "unknown": Cty.unknown,
        "fraction": "0.8",  // go-cty's string form of an inexact number
        "dynamic": Cty.dynamic(typeJSON: "\"string\"", value: "wrapped"),
      ])
    return try CtyObject(decoding: try value.encoded())
  }

  @Test func builderIncludesEveryAttributeSorted() throws {
    let value = try Cty.object(attributeNames: ["b", "a", "c", "a"], values: ["c": 1])
    #expect(value == .map([.init(key: "a", value: .nil), .init(key: "b", value: .nil), .init(key: "c", value: 1)]))
    #expect(Cty.attributeOrder(["b", "B", "_", "a1", "a"]) == ["B", "_", "a", "a1", "b"])
  }

  @Test func builderRejectsUnknownAttribute() {
    #expect(
      ctyError { try Cty.object(attributeNames: ["a"], values: ["a": 1, "typo": 2]) } == "typo: unsupported attribute")
  }

  @Test func typedLookups() throws {
    let config = try sampleConfig()
    #expect(
      config.attributeNames == [
        "args", "count", "dynamic", "enabled", "env", "fraction", "mount", "name", "ratio", "single", "unknown",
        "unset",
      ])
    #expect(try config.string("name") == "svc")
    #expect(try config.stringList("args") == ["-v", "--x"])
    #expect(try config.int("count") == 3)
    #expect(try config.double("count") == 3)
    #expect(try config.double("ratio") == 1.5)
    #expect(try config.double("fraction") == 0.8)
    #expect(try config.bool("enabled"))
    #expect(try config.stringMap("env") == ["A": "1", "B": "2"])
    #expect(try config.string("dynamic") == "wrapped")
    let mounts = try config.objectList("mount")
    #expect(mounts.count == 1)
    #expect(try mounts[0].string("source") == "/a")
    #expect(try mounts[0].bool("readonly"))
    #expect(try config.get("args", as: .list(of: .string)) == ["-v", "--x"])
    #expect(try config.get("env", as: .map(of: .string)) == ["A": "1", "B": "2"])
  }

  @Test func nullAndAbsentAttributes() throws {
    let config = try sampleConfig()
    #expect(config["unset"] == .nil)
    #expect(config["nope"] == nil)
    #expect(config.isNull("unset"))
    #expect(config.isNull("nope"))
    #expect(!config.isNull("name"))
    #expect(try config.optionalString("unset") == nil)
    #expect(try config.optionalString("nope") == nil)
    #expect(try config.optionalInt("count") == 3)
    #expect(try config.optionalObject("single") == nil)
    #expect(try config.stringList("unset") == [])
    #expect(try config.stringMap("unset") == [:])
    #expect(try config.objectList("single") == [])
    #expect(ctyError { try config.string("unset") } == "unset: expected a string, got null")
    #expect(ctyError { try config.string("nope") } == "nope: expected a string, but the attribute is missing")
  }

  @Test func errorsNameKeyAndTypes() throws {
    let config = try sampleConfig()
    #expect(ctyError { try config.string("args") } == "args: expected a string, got a list")
    #expect(ctyError { try config.bool("name") } == "name: expected a bool, got a string")
    #expect(ctyError { try config.int("ratio") } == "ratio: expected an integer, got 1.5 (not a whole number)")
    #expect(
      ctyError { try config.int("fraction") } == "fraction: expected an integer, got 0.8 (not a 64-bit whole number)")
    #expect(ctyError { try config.int("name") } == "name: expected an integer, got a string")
    #expect(ctyError { try config.double("enabled") } == "enabled: expected a number, got a bool")
    #expect(ctyError { try config.object("args") } == "args: expected an object, got a list")
    #expect(ctyError { try config.string("unknown") } == "unknown: expected a string, got an unknown value")
    #expect(ctyError { try config.optionalString("unknown") } == "unknown: expected a string, got an unknown value")
    #expect(ctyError { try config.get("args", as: .list(of: .int)) } == "args[0]: expected an integer, got a string")
    #expect(ctyError { try config.get("env", as: .map(of: .bool)) } == #"env["A"]: expected a bool, got a string"#)
    let mounts = try config.objectList("mount")
    #expect(ctyError { try mounts[0].int("target") } == "mount[0].target: expected an integer, got a string")
  }

  @Test func intRange() throws {
    let object = try CtyObject(["big": .uint(UInt64.max), "huge": 1e20, "neg": -5, "whole": 4.0])
    #expect(ctyError { try object.int("big") } == "big: expected an integer, got 1.8446744073709552e+19 (out of range)")
    #expect(ctyError { try object.int("huge") } == "huge: expected an integer, got 1e+20 (out of range)")
    #expect(try object.int("neg") == -5)
    #expect(try object.int("whole") == 4)
  }

  @Test func optionalElements() throws {
    let object = try CtyObject(["list": ["a", .nil, "c"]])
    #expect(try object.get("list", as: .list(of: .optional(.string))) == ["a", nil, "c"])
    #expect(ctyError { try object.stringList("list") } == "list[1]: expected a string, got null")
  }

  @Test func rootMustBeAnObjectWithStringKeys() throws {
    #expect(ctyError { try CtyObject(["x"]) } == "expected an object, got a list")
    #expect(ctyError { try CtyObject([1: 2]) } == "object keys must be strings, got a number")
    #expect(ctyError { try CtyObject(.nil) } == "expected an object, got null")
    #expect(try CtyObject(decoding: []).entries.isEmpty)
    #expect(throws: MsgpackError.self) { try CtyObject(decoding: [0xc1]) }
    #expect(throws: CtyError.self) { try CtyObject(decoding: [0x90]) }
  }

  @Test func requireOnly() throws {
    let object = try CtyObject(["a": 1, "b": 2])
    #expect(throws: Never.self) { try object.requireOnly(["a", "b", "c"]) }
    #expect(ctyError { try object.requireOnly(["a"]) } == "b: unsupported attribute")
  }

  @Test func customType() throws {
    let port = CtyType<UInt16>(name: "a port number") { (value, path) throws(CtyError) in
      guard let n = value.intValue, let port = UInt16(exactly: n) else {
        throw CtyError(path: path, message: "expected a port number, got \(value)")
      }
      return port
    }
    let object = try CtyObject(["p": 8080, "q": 70000, "r": "x"])
    #expect(try object.get("p", as: port) == 8080)
    #expect(ctyError { try object.get("q", as: port) } == "q: expected a port number, got 70000")
  }
}
