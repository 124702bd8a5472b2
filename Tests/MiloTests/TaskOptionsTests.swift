import Foundation
import NomadPlugin
import Testing

@testable import Milo

private func encode(_ values: [String: MsgpackValue]) throws -> [UInt8] {
  try MsgpackEncoder().encode(Cty.object(attributeNames: TaskOptions.schema.names, values: values))
}

@Suite struct TaskOptionsTests {
  @Test func emptyBytesGiveNoOptions() throws {
    let options = try TaskOptions.decode([])
    #expect(options == TaskOptions())
    #expect(options.jarPath == nil)
    #expect(options.mainClass == nil)
    #expect(options.classPath == nil)
    #expect(options.jvmOptions == [])
    #expect(options.args == [])
    #expect(options.javaVersion == nil)
    #expect(options.javaHome == nil)
    #expect(options.capAdd == [])
    #expect(options.workDir == nil)
  }

  @Test func allNullGivesNoOptions() throws {
    #expect(try TaskOptions.decode(encode([:])) == TaskOptions())
  }

  @Test func everyOptionDecodes() throws {
    let options = try TaskOptions.decode(
      encode([
        "jar_path": "local/app.jar", "class": "com.example.Main", "class_path": "local/*",
        "jvm_options": Cty.stringList(["-Xmx1g", "-XX:+UseZGC"]), "args": Cty.stringList(["serve", ""]),
        "java_version": "21", "java_home": "/usr/lib/jvm/temurin-21", "cap_add": Cty.stringList(["CAP_NET_RAW"]),
        "work_dir": "/local", "pids_limit": Cty.number(Int64(256)), "cpu_hard_limit": true,
        "cpu_cfs_period": Cty.number(Int64(50000)),
      ]))
    var expected = TaskOptions()
    expected.jarPath = "local/app.jar"
    expected.mainClass = "com.example.Main"
    expected.classPath = "local/*"
    expected.jvmOptions = ["-Xmx1g", "-XX:+UseZGC"]
    expected.args = ["serve", ""]
    expected.javaVersion = "21"
    expected.javaHome = "/usr/lib/jvm/temurin-21"
    expected.capAdd = ["net_raw"]
    expected.workDir = "/local"
    expected.pidsLimit = 256
    expected.cpuHardLimit = true
    expected.cpuCFSPeriod = 50000
    #expect(options == expected)
  }

  @Test func emptyStringsMeanUnset() throws {
    let options = try TaskOptions.decode(
      encode(["jar_path": "", "class": "", "class_path": "", "java_version": "", "java_home": "", "work_dir": ""]))
    #expect(options == TaskOptions())
  }

  @Test(
    arguments: [
      ("jar_path", MsgpackValue.int(1), "invalid task config: jar_path: expected a string, got a number"),
      ("class", .bool(false), "invalid task config: class: expected a string, got a bool"),
      ("jvm_options", .string("-Xmx1g"), "invalid task config: jvm_options: expected a list, got a string"),
      ("args", .array([.int(8080)]), "invalid task config: args[0]: expected a string, got a number"),
      ("cap_add", .string("net_raw"), "invalid task config: cap_add: expected a list, got a string"),
      ("work_dir", .array([]), "invalid task config: work_dir: expected a string, got a list"),
    ] as [(String, MsgpackValue, String)])
  func wrongTypeNamesTheKey(key: String, value: MsgpackValue, message: String) throws {
    let bytes = try encode([key: value])
    let error = caught(DriverError.self) { try TaskOptions.decode(bytes) }
    #expect(error?.code == .invalidArgument)
    #expect(error?.message == message)
  }

  @Test func schemaHasNoDefaultsAndNothingRequired() {
    #expect(
      TaskOptions.schema.names == [
        "jar_path", "class", "class_path", "jvm_options", "args", "java_version", "java_home", "cap_add", "work_dir",
        "pids_limit", "cpu_hard_limit", "cpu_cfs_period",
      ])
    #expect(TaskOptions.schema.attributes.allSatisfy { $0.defaultValue == nil && !$0.required })
  }

  @Test func codableRoundTrip() throws {
    var options = TaskOptions()
    options.jarPath = "local/a.jar"
    options.args = ["x"]
    options.capAdd = ["kill"]
    let data = try JSONEncoder().encode(options)
    #expect(try JSONDecoder().decode(TaskOptions.self, from: data) == options)
  }
}
