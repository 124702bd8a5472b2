import Foundation
import Testing

@testable import Milo

/// A Nomad-style allocation directory: `<alloc>/alloc`, `<alloc>/<task>/{local,secrets,tmp}`.
private final class TaskDirs {
  let root = TempDir("milo-task")
  var allocDir: String { root.path }
  var taskDir: String { root.path + "/web" }

  init(makeLocal: Bool = true) {
    root.makeDirectory("alloc")
    root.makeDirectory("web/secrets")
    root.makeDirectory("web/tmp")
    if makeLocal { root.makeDirectory("web/local") }
  }

  /// A real (tiny) JAR: the zip local-file signature and some bytes.
  @discardableResult
  func jar(_ relative: String) -> String {
    root.write(relative, [0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 0, count: 26))
  }

  func file(_ relative: String, _ text: String) { root.write(relative, text) }

  func resolve(_ options: TaskOptions) throws(TaskError) -> JavaCommand {
    try JavaCommand.resolve(options: options, taskDir: taskDir, allocDir: allocDir)
  }

  func error(_ options: TaskOptions, sourceLocation: SourceLocation = #_sourceLocation) -> TaskError? {
    caught(TaskError.self, sourceLocation: sourceLocation) { try resolve(options) }
  }
}

private func options(
  jar: String? = nil, mainClass: String? = nil, classPath: String? = nil, jvm: [String] = [],
  args: [String] = []
) -> TaskOptions {
  var options = TaskOptions()
  options.jarPath = jar
  options.mainClass = mainClass
  options.classPath = classPath
  options.jvmOptions = jvm
  options.args = args
  return options
}

@Suite struct JavaCommandTests {
  @Test func singleJarInLocalIsFound() throws {
    let dirs = TaskDirs()
    dirs.jar("web/local/app.jar")
    let command = try dirs.resolve(TaskOptions())
    #expect(command.arguments == ["-jar", "/local/app.jar"])
    #expect(command.hostJar == dirs.taskDir + "/local/app.jar")
  }

  @Test func jvmOptionsGoBeforeTheJarAndArgsAfter() throws {
    let dirs = TaskDirs()
    dirs.jar("web/local/server.jar")
    let command = try dirs.resolve(
      options(jvm: ["-Xmx256m", "-Dapp.mode=prod"], args: ["--port", "8080", "-jar"]))
    #expect(
      command.arguments == ["-Xmx256m", "-Dapp.mode=prod", "-jar", "/local/server.jar", "--port", "8080", "-jar"])
  }

  @Test func explicitJarPath() throws {
    let dirs = TaskDirs()
    dirs.jar("web/local/a.jar")
    dirs.jar("web/local/lib/b.jar")
    let command = try dirs.resolve(options(jar: "local/lib/b.jar", args: ["x"]))
    #expect(command.arguments == ["-jar", "/local/lib/b.jar", "x"])
    #expect(command.hostJar == dirs.taskDir + "/local/lib/b.jar")
  }

  @Test(arguments: ["/local/app.jar", "./local/./app.jar", "local//app.jar", "local/sub/../app.jar"])
  func jarPathIsNormalised(path: String) throws {
    let dirs = TaskDirs()
    dirs.jar("web/local/app.jar")
    let command = try dirs.resolve(options(jar: path))
    #expect(command.arguments == ["-jar", "/local/app.jar"])
    #expect(command.hostJar == dirs.taskDir + "/local/app.jar")
  }

  @Test func jarInTheSharedAllocDir() throws {
    let dirs = TaskDirs()
    dirs.jar("alloc/shared/app.jar")
    let command = try dirs.resolve(options(jar: "alloc/shared/app.jar"))
    #expect(command.arguments == ["-jar", "/alloc/shared/app.jar"])
    #expect(command.hostJar == dirs.allocDir + "/alloc/shared/app.jar")
  }

  @Test func jarInSecrets() throws {
    let dirs = TaskDirs()
    dirs.jar("web/secrets/app.jar")
    let command = try dirs.resolve(options(jar: "secrets/app.jar"))
    #expect(command.arguments == ["-jar", "/secrets/app.jar"])
    #expect(command.hostJar == dirs.taskDir + "/secrets/app.jar")
  }

  @Test func mainClassWithClassPath() throws {
    let dirs = TaskDirs(makeLocal: false)
    let command = try dirs.resolve(
      options(mainClass: "com.example.Main", classPath: "local/app.jar:local/lib/*", jvm: ["-Xss1m"], args: ["a", "b"]))
    #expect(command.arguments == ["-Xss1m", "-cp", "local/app.jar:local/lib/*", "com.example.Main", "a", "b"])
    #expect(command.hostJar == nil)
  }

  @Test func mainClassWithoutClassPath() throws {
    let dirs = TaskDirs()
    #expect(try dirs.resolve(options(mainClass: "Hello")).arguments == ["Hello"])
  }

  @Test func jarPathAndClassTogetherAreRejected() {
    let dirs = TaskDirs()
    dirs.jar("web/local/app.jar")
    let error = dirs.error(options(jar: "local/app.jar", mainClass: "com.example.Main"))
    #expect(
      error?.description
        == "Error: both jar_path and class are set\n"
        + "Expected: either jar_path (run a JAR) or class with class_path (run a main class)\n"
        + "Got: jar_path = \"local/app.jar\", class = \"com.example.Main\"\n"
        + "Suggestion: remove one of them; to run a class from a JAR, set class and class_path = \"local/app.jar\".")
  }

  @Test(arguments: [
    "../../etc/passwd", "/etc/passwd", "local/../../x.jar", "..", "local", "/", "",
    "bin/app.jar", "local/../secrets/../../x.jar", "../web/local/app.jar",
  ])
  func jarPathEscapingTheTaskIsRejected(path: String) {
    let dirs = TaskDirs()
    dirs.jar("web/local/app.jar")
    let error = dirs.error(options(jar: path))
    #expect(error?.what == "jar_path escapes the task directory")
    #expect(
      error?.expected == "a path inside the task directory: local/, secrets/, tmp/ or alloc/ (e.g. local/app.jar)")
    #expect(error?.got == "jar_path = \"\(path)\"")
    #expect(
      error?.suggestion
        == "download the JAR with an artifact block (it lands in local/) and set jar_path = \"local/<name>.jar\".")
  }

  @Test func nonJarArtifactNamedByJarPath() {
    let dirs = TaskDirs()
    dirs.file("web/local/my-script.py", "print('hi')\n")
    let error = dirs.error(options(jar: "local/my-script.py"))
    #expect(
      error?.description
        == "Error: Artifact must be a .jar file, got: my-script.py\n"
        + "Expected: a Java archive (*.jar)\n"
        + "Got: local/my-script.py\n"
        + "Suggestion: ship a JAR in the job's artifact block, or use another driver for non-Java programs.")
  }

  @Test func nonJarArtifactInLocal() {
    let dirs = TaskDirs()
    dirs.file("web/local/my-script.py", "print('hi')\n")
    dirs.root.makeDirectory("web/local/cache")
    let error = dirs.error(TaskOptions())
    #expect(error?.what == "Artifact must be a .jar file, got: my-script.py")
    #expect(error?.expected == "a Java archive (*.jar) in local/")
    #expect(error?.got == "cache, my-script.py")
  }

  @Test func noJarInAnEmptyLocal() {
    let dirs = TaskDirs()
    let error = dirs.error(TaskOptions())
    #expect(
      error?.description
        == "Error: No JAR found for the task\n"
        + "Expected: a *.jar downloaded into local/ by an artifact block, or jar_path\n"
        + "Got: local/ is empty\n"
        + "Suggestion: add an artifact block with the JAR's URL (source = \"https://.../app.jar\"), or set jar_path.")
  }

  @Test func noJarWhenLocalIsMissing() {
    let dirs = TaskDirs(makeLocal: false)
    #expect(dirs.error(TaskOptions())?.what == "No JAR found for the task")
  }

  @Test func noJarWhenLocalHasOnlyDirectories() {
    let dirs = TaskDirs()
    dirs.root.makeDirectory("web/local/b")
    dirs.root.makeDirectory("web/local/a")
    let error = dirs.error(TaskOptions())
    #expect(error?.what == "No JAR found for the task")
    #expect(error?.got == "only directories in local/: a, b")
  }

  @Test func severalJarsAreListed() {
    let dirs = TaskDirs()
    dirs.jar("web/local/zeta.jar")
    dirs.jar("web/local/alpha.jar")
    dirs.jar("web/local/mid.JAR")
    let error = dirs.error(TaskOptions())
    #expect(
      error?.description
        == "Error: several JARs found in local/ and no jar_path set\n"
        + "Expected: exactly one *.jar in local/, or jar_path naming one\n"
        + "Got: alpha.jar, mid.JAR, zeta.jar\n"
        + "Suggestion: set jar_path = \"local/alpha.jar\" in the task's config block.")
  }

  @Test func hiddenFilesAreIgnored() throws {
    let dirs = TaskDirs()
    dirs.jar("web/local/.partial.jar")
    dirs.jar("web/local/app.jar")
    #expect(try dirs.resolve(TaskOptions()).arguments == ["-jar", "/local/app.jar"])
  }

  @Test func upperCaseExtensionIsAJar() throws {
    let dirs = TaskDirs()
    dirs.jar("web/local/APP.JAR")
    #expect(try dirs.resolve(TaskOptions()).arguments == ["-jar", "/local/APP.JAR"])
  }

  @Test func emptyZipSignatureIsAccepted() throws {
    let dirs = TaskDirs()
    dirs.root.write("web/local/empty.jar", [0x50, 0x4B, 0x05, 0x06] + [UInt8](repeating: 0, count: 18))
    #expect(try dirs.resolve(TaskOptions()).hostJar == dirs.taskDir + "/local/empty.jar")
  }

  @Test func jarThatIsNotAZip() {
    let dirs = TaskDirs()
    dirs.file("web/local/app.jar", "<html><body>404</body></html>")
    let error = dirs.error(TaskOptions())
    #expect(
      error?.description
        == "Error: local/app.jar is not a JAR (zip) file\n"
        + "Expected: a Java archive, which starts with the zip signature PK\n"
        + "Got: a file starting with bytes 3c 68 74 6d\n"
        + "Suggestion: rebuild the JAR (jar cfe app.jar Main ...) and check the artifact URL serves the JAR itself, not an HTML page."
    )
  }

  @Test func emptyJarFile() {
    let dirs = TaskDirs()
    dirs.root.write("web/local/app.jar", [])
    let error = dirs.error(TaskOptions())
    #expect(error?.what == "local/app.jar is not a JAR (zip) file")
    #expect(error?.got == "an empty file")
  }

  @Test func shortFileIsNotAZip() {
    let dirs = TaskDirs()
    dirs.root.write("web/local/app.jar", [0x50, 0x4B])
    #expect(dirs.error(TaskOptions())?.got == "a file starting with bytes 50 4b")
  }

  @Test func missingJarPath() {
    let dirs = TaskDirs()
    let error = dirs.error(options(jar: "local/missing.jar"))
    #expect(
      error?.description
        == "Error: JAR not found: local/missing.jar\n"
        + "Expected: an existing, readable file at local/missing.jar\n"
        + "Got: no such file in the task directory\n"
        + "Suggestion: check jar_path against the artifact's file name (artifacts land in local/).")
  }
}

@Suite struct TaskErrorTests {
  @Test func rendersFourLines() {
    let error = TaskError("what", expected: "exp", got: "g", suggestion: "s")
    #expect(error.description == "Error: what\nExpected: exp\nGot: g\nSuggestion: s")
    #expect(error == TaskError("what", expected: "exp", got: "g", suggestion: "s"))
    #expect(error != TaskError("what", expected: "exp", got: "other", suggestion: "s"))
  }
}
