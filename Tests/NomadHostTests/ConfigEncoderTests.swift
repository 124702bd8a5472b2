import Foundation
import NomadPlugin
import NomadProto
import Testing

@testable import NomadHost

@Suite struct ConfigEncoderTests {
  static let schema = HCLSchema([
    HCLAttribute("runtime", type: "string", default: "\"crun\""),
    HCLAttribute("java_search_paths", type: "list(string)", default: "[\"/usr/lib/jvm\"]"),
    HCLAttribute("log_buffer_bytes", type: "number", default: "4194304"),
    HCLAttribute("debug", type: "bool", default: "false"),
    HCLAttribute("jar_path", type: "string"),
    HCLAttribute("jvm_options", type: "list(string)"),
    HCLAttribute("labels", type: "map(string)"),
    HCLAttribute("ratio", type: "number"),
  ]).spec

  static let variables = HCLVariables(env: ["NOMAD_TASK_NAME": "web", "NOMAD_TASK_DIR": "/local"])

  private func decode(_ bytes: [UInt8]) throws -> MsgpackValue { try MsgpackDecoder().decode(bytes) }

  private func keys(_ value: MsgpackValue) -> [String] { value.mapValue?.compactMap { $0.key.stringValue } ?? [] }

  @Test func everyAttributeSortedWithDefaultsAndNils() throws {
    let bytes = try ConfigEncoder.encodeTaskConfig(
      ["jar_path": "local/app.jar"], spec: Self.schema, variables: Self.variables)
    let value = try decode(bytes)
    #expect(
      keys(value) == [
        "debug", "jar_path", "java_search_paths", "jvm_options", "labels", "log_buffer_bytes", "ratio", "runtime",
      ])
    #expect(value["runtime"] == "crun")
    #expect(value["java_search_paths"] == ["/usr/lib/jvm"])
    #expect(value["log_buffer_bytes"] == .int(4_194_304))
    #expect(value["debug"] == false)
    #expect(value["jar_path"] == "local/app.jar")
    #expect(value["jvm_options"] == .nil)
    #expect(value["labels"] == .nil)
  }

  @Test func valuesAreConvertedToTheAttributeType() throws {
    let config: [String: MsgpackValue] = [
      "runtime": .int(5), "debug": "true", "log_buffer_bytes": "1024", "jvm_options": ["-Xmx1g", .int(3), true],
      "labels": ["b": "2", "a": .int(1)], "ratio": .float(0.1),
    ]
    let value = try decode(try ConfigEncoder.encodeTaskConfig(config, spec: Self.schema, variables: Self.variables))
    #expect(value["runtime"] == "5")
    #expect(value["debug"] == true)
    #expect(value["log_buffer_bytes"] == .int(1024))
    #expect(value["jvm_options"] == ["-Xmx1g", "3", "true"])
    #expect(keys(value["labels"] ?? .nil) == ["a", "b"])
    #expect(value["labels"]?["a"] == "1")
    // 0.1 is not exactly a float64: go-cty writes it as a string.
    #expect(value["ratio"] == "0.1")
  }

  @Test func numbersFollowGoCtyRules() {
    #expect(CtyNumber(parsing: "3")?.msgpack == .int(3))
    #expect(CtyNumber(parsing: "1e3")?.msgpack == .int(1000))
    #expect(CtyNumber(parsing: "1.5")?.msgpack == .float(1.5))
    #expect(CtyNumber(parsing: "0.1")?.msgpack == .string("0.1"))
    #expect(CtyNumber(parsing: "-2.50")?.msgpack == .float(-2.5))
    #expect(CtyNumber(parsing: "123456789012345678901234567890")?.msgpack == .string("123456789012345678901234567890"))
    #expect(CtyNumber(parsing: "1.25e-7")?.plainText == "0.000000125")
    #expect(CtyNumber(parsing: "abc") == nil)
  }

  @Test func interpolatesTaskVariables() throws {
    let config: [String: MsgpackValue] = [
      "jar_path": "${NOMAD_TASK_DIR}/app.jar", "jvm_options": ["-Dname=${NOMAD_TASK_NAME}", "$${literal}"],
      "labels": ["x": "${env[\"NOMAD_TASK_NAME\"]}"],
    ]
    let value = try decode(try ConfigEncoder.encodeTaskConfig(config, spec: Self.schema, variables: Self.variables))
    #expect(value["jar_path"] == "/local/app.jar")
    #expect(value["jvm_options"] == ["-Dname=web", "${literal}"])
    #expect(value["labels"]?["x"] == "web")
  }

  @Test func missingConfigFailsWithRootValueMustBeObject() {
    let expected =
      "2 errors occurred:\n\t* failed to parse config: \n\t* Root value must be object: The root value in a JSON-based configuration must be either a JSON object or a JSON array of objects.\n\n"
    for config in [nil, [:]] as [[String: MsgpackValue]?] {
      let error = caught(ConfigParseError.self) {
        try ConfigEncoder.encodeTaskConfig(config, spec: Self.schema, variables: Self.variables)
      }
      #expect(error?.description == expected)
    }
  }

  @Test func typeErrorsReadLikeHCL() {
    func failure(_ config: [String: MsgpackValue], sourceLocation: SourceLocation = #_sourceLocation) -> String {
      let error = caught(ConfigParseError.self, sourceLocation: sourceLocation) {
        try ConfigEncoder.encodeTaskConfig(config, spec: Self.schema, variables: Self.variables)
      }
      return error?.description ?? "no error"
    }
    #expect(
      failure(["jar_path": ["a"]])
        == "2 errors occurred:\n\t* failed to parse config: \n\t* Incorrect attribute value type: Inappropriate value for attribute \"jar_path\": string required, but have tuple.\n\n"
    )
    #expect(
      failure(["jvm_options": "-Xmx1g"]).contains(
        "Inappropriate value for attribute \"jvm_options\": list of string required, but have string."))
    #expect(failure(["debug": "yes"]).contains("Inappropriate value for attribute \"debug\": a bool is required."))
    #expect(failure(["debug": "True"]).contains("a bool is required; to convert from string, use lowercase \"true\"."))
    #expect(failure(["ratio": "fast"]).contains("Inappropriate value for attribute \"ratio\": a number is required."))
    #expect(failure(["ratio": true]).contains("number required, but have bool."))
    #expect(failure(["labels": ["a", "b"]]).contains("map of string required."))
    #expect(failure(["jvm_options": [["nested"]]]).contains("element 0: string required, but have tuple."))
    #expect(
      failure(["jar_pth": "x"]).contains(
        "* Invalid label: No argument or block type is named \"jar_pth\". Did you mean \"jar_path\"?"))
    #expect(failure(["zzzzzz": "x"]).contains("* Invalid label: No argument or block type is named \"zzzzzz\".\n"))
    #expect(failure(["jar_path": "${NOPE}"]).contains("Unknown variable: There is no variable named \"NOPE\"."))
  }

  @Test func requiredAttributesAreChecked() {
    let spec = HCLSchema([HCLAttribute("image", type: "string", required: true)]).spec
    let error = caught(ConfigParseError.self) {
      try ConfigEncoder.encodeTaskConfig(["other": "x"], spec: spec, variables: Self.variables)
    }
    #expect(
      error?.description
        == "3 errors occurred:\n\t* failed to parse config: \n\t* Missing required argument: The argument \"image\" is required, but no definition was found.\n\t* Invalid label: No argument or block type is named \"other\".\n\n"
    )
  }

  @Test func pluginConfigDefaultsWhenNil() throws {
    let value = try decode(try ConfigEncoder.encodePluginConfig(nil, spec: Self.schema))
    #expect(value["runtime"] == "crun")
    let error = caught(ConfigParseError.self) {
      try ConfigEncoder.encodePluginConfig(["bogus": true], spec: Self.schema)
    }
    #expect(error?.description.hasPrefix("1 error occurred:\n\t* failed to parse config:  Invalid label: ") == true)
  }

  @Test func literalsAndTypeExpressionsParse() throws {
    #expect(try HCLLiteral.parse("\"crun\"") == .string("crun"))
    #expect(try HCLLiteral.parse("[\"a\", \"b\"]") == .tuple([.string("a"), .string("b")]))
    #expect(try HCLLiteral.parse("[]") == .tuple([]))
    #expect(try HCLLiteral.parse("4194304") == .number(CtyNumber(Int64(4_194_304))))
    #expect(try HCLLiteral.parse("true") == .bool(true))
    #expect(
      try HCLLiteral.parse("{ a = 1, \"b\" = \"x\" }")
        == .object(["a": .number(CtyNumber(Int64(1))), "b": .string("x")]))
    #expect(try CtyTypeSpec.parse("list(string)") == .list(.string))
    #expect(try CtyTypeSpec.parse("map( number )") == .map(.number))
    #expect(try CtyTypeSpec.parse("object({a=string, b=list(bool)})") == .object(["a": .string, "b": .list(.bool)]))
    #expect(try CtyTypeSpec.parse("tuple([string, number])") == .tuple([.string, .number]))
    #expect(try CtyTypeSpec.parse("any") == .dynamic)
    #expect(throws: ConfigError.self) { try CtyTypeSpec.parse("lst(string)") }
  }

  @Test func blocksDecodeFromObjectsAndArrays() throws {
    var mount = HCLSpecProto()
    var attr = Hashicorp_Nomad_Plugins_Shared_Hclspec_Attr()
    attr.name = "source"
    attr.type = "string"
    attr.required = true
    var attrSpec = HCLSpecProto()
    attrSpec.block = .attr(attr)
    var nested = Hashicorp_Nomad_Plugins_Shared_Hclspec_Object()
    nested.attributes["source"] = attrSpec
    var nestedSpec = HCLSpecProto()
    nestedSpec.block = .object(nested)
    var list = Hashicorp_Nomad_Plugins_Shared_Hclspec_BlockList()
    list.name = "mount"
    list.nested = nestedSpec
    mount.block = .blockList(list)
    var root = Hashicorp_Nomad_Plugins_Shared_Hclspec_Object()
    root.attributes["mount"] = mount
    var spec = HCLSpecProto()
    spec.block = .object(root)
    let value = try decode(
      try ConfigEncoder.encodeTaskConfig(
        ["mount": [["source": "/a"], ["source": "/b"]]], spec: spec, variables: Self.variables))
    #expect(value["mount"] == [["source": "/a"], ["source": "/b"]])
    let single = try decode(
      try ConfigEncoder.encodeTaskConfig(["mount": ["source": "/c"]], spec: spec, variables: Self.variables))
    #expect(single["mount"] == [["source": "/c"]])
  }
}
