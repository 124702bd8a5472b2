import NomadPlugin
import NomadProto
import Testing

@Suite struct HCLSchemaTests {
  @Test func attributeDefaults() {
    let attribute = HCLAttribute("name", type: "string")
    #expect(attribute.name == "name")
    #expect(attribute.type == "string")
    #expect(attribute.required == false)
    #expect(attribute.defaultValue == nil)
    #expect(attribute.help == "")
  }

  @Test func attributeWithoutDefaultIsAPlainAttr() {
    let schema = HCLSchema([HCLAttribute("jar_path", type: "string", required: true, help: "JAR")])
    var attr = Hashicorp_Nomad_Plugins_Shared_Hclspec_Attr()
    attr.name = "jar_path"
    attr.type = "string"
    attr.required = true
    var expectedAttr = HCLSpec()
    expectedAttr.attr = attr
    var object = Hashicorp_Nomad_Plugins_Shared_Hclspec_Object()
    object.attributes = ["jar_path": expectedAttr]
    var expected = HCLSpec()
    expected.object = object
    #expect(schema.spec == expected)
  }

  @Test func attributeWithDefaultIsWrapped() {
    let schema = HCLSchema([HCLAttribute("runtime", type: "string", default: "\"crun\"")])
    guard case .object(let object)? = schema.spec.block else {
      Issue.record("root is not an object: \(schema.spec)")
      return
    }
    #expect(object.attributes.count == 1)
    guard case .default(let wrapper)? = object.attributes["runtime"]?.block else {
      Issue.record("runtime is not a default spec")
      return
    }
    guard case .attr(let attr)? = wrapper.primary.block else {
      Issue.record("primary is not an attr")
      return
    }
    #expect(attr.name == "runtime")
    #expect(attr.type == "string")
    #expect(attr.required == false)
    guard case .literal(let literal)? = wrapper.default.block else {
      Issue.record("default is not a literal")
      return
    }
    #expect(literal.value == "\"crun\"")
  }

  @Test func mixedSchemaAsAWhole() {
    let schema = HCLSchema([
      HCLAttribute("a", type: "list(string)", default: "[]"),
      HCLAttribute("b", type: "number"),
      HCLAttribute("c", type: "bool", default: "false"),
    ])
    #expect(schema.names == ["a", "b", "c"])
    let attributes = schema.spec.object.attributes
    #expect(Set(attributes.keys) == ["a", "b", "c"])
    #expect(attributes["a"]?.default.primary.attr.type == "list(string)")
    #expect(attributes["a"]?.default.default.literal.value == "[]")
    #expect(attributes["b"]?.attr.name == "b")
    #expect(attributes["b"]?.attr.type == "number")
    #expect(attributes["c"]?.default.default.literal.value == "false")
    #expect(attributes["c"]?.default.primary.attr.name == "c")
  }

  @Test func emptySchema() {
    let spec = HCLSchema([]).spec
    guard case .object(let object)? = spec.block else {
      Issue.record("root is not an object")
      return
    }
    #expect(object.attributes.isEmpty)
    #expect(HCLSchema([]).names == [])
  }

  @Test func specSerializesAndParsesBack() throws {
    let schema = HCLSchema([
      HCLAttribute("x", type: "string", default: "\"y\""), HCLAttribute("z", type: "map(string)"),
    ])
    let bytes = try schema.spec.serializedBytes() as [UInt8]
    #expect(try HCLSpec(serializedBytes: bytes) == schema.spec)
  }
}
