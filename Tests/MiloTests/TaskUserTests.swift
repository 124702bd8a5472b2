import Testing

@testable import Milo

private final class Accounts {
  let dir = TempDir("milo-users")
  let passwd: String
  let group: String

  init() {
    passwd = dir.write(
      "passwd",
      """
      root:x:0:0:root:/root:/bin/bash
      nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
      app:x:1001:1001::/home/app:/bin/sh
      broken:x:abc:1::/:/bin/sh
      short:x:5
      # comment:x:1:1

      """)
    group = dir.write(
      "group",
      """
      root:x:0:
      app:x:1001:app
      docker:x:999:app,other
      wheel:x:10:application
      audio:x:29:someone,app
      nogroup:x:65534:
      bad:x:notanumber:app

      """)
  }

  func resolve(_ spec: String) throws(TaskError) -> TaskUser {
    try TaskUser.resolve(spec, passwd: passwd, group: group)
  }
}

@Suite struct TaskUserTests {
  @Test func nameWithSupplementaryGroups() throws {
    let user = try Accounts().resolve("app")
    #expect(user == TaskUser(name: "app", uid: 1001, gid: 1001, groups: [999, 29]))
  }

  @Test func nameWithoutSupplementaryGroups() throws {
    #expect(try Accounts().resolve("nobody") == TaskUser(name: "nobody", uid: 65534, gid: 65534, groups: []))
    #expect(try Accounts().resolve("root") == TaskUser(name: "root", uid: 0, gid: 0, groups: []))
  }

  @Test func numericUID() throws {
    #expect(try Accounts().resolve("1234") == TaskUser(name: "1234", uid: 1234, gid: 1234, groups: []))
  }

  @Test func numericUIDAndGID() throws {
    #expect(try Accounts().resolve("1234:5678") == TaskUser(name: "1234:5678", uid: 1234, gid: 5678, groups: []))
    #expect(try Accounts().resolve("0:0") == TaskUser(name: "0:0", uid: 0, gid: 0, groups: []))
  }

  @Test func unknownUser() {
    let error = caught(TaskError.self) { try Accounts().resolve("ghost") }
    #expect(
      error?.description
        == "Error: user ghost does not exist on this host\n"
        + "Expected: a user name from /etc/passwd, a numeric uid, or uid:gid\n"
        + "Got: user = \"ghost\"\n"
        + "Suggestion: create the user on the client (useradd ghost), set the task's user to an existing one,"
        + " or leave it unset to use the plugin's default_user.")
  }

  @Test(arguments: ["broken", "short", "1000:abc", "", "App"])
  func malformedOrMissingEntries(spec: String) {
    let error = caught(TaskError.self) { try Accounts().resolve(spec) }
    #expect(error?.what == "user \(spec) does not exist on this host")
  }

  @Test func missingPasswdFile() {
    let error = caught(TaskError.self) {
      try TaskUser.resolve("app", passwd: "/nonexistent/passwd", group: "/nonexistent/group")
    }
    #expect(error?.what == "user app does not exist on this host")
  }

  @Test func missingGroupFileMeansNoSupplementaryGroups() throws {
    let accounts = Accounts()
    let user = try TaskUser.resolve("app", passwd: accounts.passwd, group: "/nonexistent/group")
    #expect(user == TaskUser(name: "app", uid: 1001, gid: 1001, groups: []))
  }
}
