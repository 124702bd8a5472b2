import Foundation

/// Resolves what a task runs: the JAR or main class, checked before any container exists.
public struct JavaCommand: Sendable, Equatable {
  /// The arguments after `java` (JVM options, -cp/-jar, class, app args).
  public var arguments: [String]
  /// The JAR on the host, when the task runs one.
  public var hostJar: String?

  /// The task directory layout as seen in the container (Nomad's chroot layout).
  static let visibleDirs = ["local", "secrets", "tmp", "alloc"]

  /// Builds the command for `options` in the task directory `taskDir` (`<alloc_dir>/<task>`).
  public static func resolve(options: TaskOptions, taskDir: String, allocDir: String) throws(TaskError)
    -> JavaCommand
  {
    if options.jarPath != nil && options.mainClass != nil {
      throw TaskError(
        "both jar_path and class are set",
        expected: "either jar_path (run a JAR) or class with class_path (run a main class)",
        got: "jar_path = \"\(options.jarPath ?? "")\", class = \"\(options.mainClass ?? "")\"",
        suggestion: "remove one of them; to run a class from a JAR, set class and class_path = \"local/app.jar\".")
    }
    if let mainClass = options.mainClass {
      var args = options.jvmOptions
      if let classPath = options.classPath { args += ["-cp", classPath] }
      args.append(mainClass)
      return JavaCommand(arguments: args + options.args, hostJar: nil)
    }
    let relative: String
    if let jarPath = options.jarPath {
      relative = try checkInsideTask(jarPath, taskDir: taskDir)
    } else {
      relative = try findSingleJar(localDir: taskDir + "/local")
    }
    guard relative.lowercased().hasSuffix(".jar") else {
      throw TaskError(
        "Artifact must be a .jar file, got: \((relative as NSString).lastPathComponent)",
        expected: "a Java archive (*.jar)",
        got: relative,
        suggestion: "ship a JAR in the job's artifact block, or use another driver for non-Java programs.")
    }
    let hostPath = hostPath(of: relative, taskDir: taskDir, allocDir: allocDir)
    // Symlinks must not lead outside what the container sees (the check reads the file as root).
    let real = URL(fileURLWithPath: hostPath).resolvingSymlinksInPath().path
    let roots = [taskDir, allocDir + "/alloc"].map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path + "/" }
    guard roots.contains(where: { real.hasPrefix($0) }) else { throw escapeError(options.jarPath ?? relative) }
    try checkIsJar(hostPath, shown: relative)
    var args = options.jvmOptions
    if let classPath = options.classPath { args += ["-cp", classPath] }
    args += ["-jar", "/" + relative]
    return JavaCommand(arguments: args + options.args, hostJar: hostPath)
  }

  /// Normalises `path` (relative to the task dir) and rejects anything outside what the container sees.
  static func checkInsideTask(_ path: String, taskDir: String) throws(TaskError) -> String {
    var parts: [Substring] = []
    let trimmed = path.hasPrefix("/") ? String(path.dropFirst()) : path
    for part in trimmed.split(separator: "/") {
      if part == "." || part.isEmpty { continue }
      if part == ".." {
        if parts.isEmpty {
          throw escapeError(path)
        }
        parts.removeLast()
      } else {
        parts.append(part)
      }
    }
    guard let first = parts.first, visibleDirs.contains(String(first)), parts.count >= 2 else {
      throw escapeError(path)
    }
    return parts.joined(separator: "/")
  }

  static func escapeError(_ path: String) -> TaskError {
    TaskError(
      "jar_path escapes the task directory",
      expected: "a path inside the task directory: local/, secrets/, tmp/ or alloc/ (e.g. local/app.jar)",
      got: "jar_path = \"\(path)\"",
      suggestion:
        "download the JAR with an artifact block (it lands in local/) and set jar_path = \"local/<name>.jar\".")
  }

  static func hostPath(of relative: String, taskDir: String, allocDir: String) -> String {
    relative.hasPrefix("alloc/")
      ? allocDir + "/alloc/" + relative.dropFirst("alloc/".count) : taskDir + "/" + relative
  }

  /// Finds the one `*.jar` that Nomad downloaded into `local/`.
  static func findSingleJar(localDir: String) throws(TaskError) -> String {
    let entries = ((try? FileManager.default.contentsOfDirectory(atPath: localDir)) ?? [])
      .filter { !$0.hasPrefix(".") }.sorted()
    let jars = entries.filter { $0.lowercased().hasSuffix(".jar") }
    if jars.count == 1, let jar = jars.first { return "local/" + jar }
    if jars.count > 1 {
      throw TaskError(
        "several JARs found in local/ and no jar_path set",
        expected: "exactly one *.jar in local/, or jar_path naming one",
        got: jars.joined(separator: ", "),
        suggestion: "set jar_path = \"local/\(jars[0])\" in the task's config block.")
    }
    if let other = entries.first(where: { !isDirectory(localDir + "/" + $0) }) {
      throw TaskError(
        "Artifact must be a .jar file, got: \(other)",
        expected: "a Java archive (*.jar) in local/",
        got: entries.joined(separator: ", "),
        suggestion: "point the artifact block at a .jar, or use another driver for non-Java programs.")
    }
    throw TaskError(
      "No JAR found for the task",
      expected: "a *.jar downloaded into local/ by an artifact block, or jar_path",
      got: entries.isEmpty ? "local/ is empty" : "only directories in local/: \(entries.joined(separator: ", "))",
      suggestion: "add an artifact block with the JAR's URL (source = \"https://.../app.jar\"), or set jar_path.")
  }

  /// Checks the zip signature of a JAR.
  static func checkIsJar(_ hostPath: String, shown: String) throws(TaskError) {
    guard let handle = FileHandle(forReadingAtPath: hostPath) else {
      throw TaskError(
        "JAR not found: \(shown)",
        expected: "an existing, readable file at \(shown)",
        got: "no such file in the task directory",
        suggestion: "check jar_path against the artifact's file name (artifacts land in local/).")
    }
    defer { try? handle.close() }
    let magic = [UInt8](handle.readData(ofLength: 4))
    let zip = magic == [0x50, 0x4B, 0x03, 0x04] || magic == [0x50, 0x4B, 0x05, 0x06]
    guard zip else {
      throw TaskError(
        "\(shown) is not a JAR (zip) file",
        expected: "a Java archive, which starts with the zip signature PK",
        got: magic.isEmpty
          ? "an empty file"
          : "a file starting with bytes \(magic.map { String(format: "%02x", $0) }.joined(separator: " "))",
        suggestion:
          "rebuild the JAR (jar cfe app.jar Main ...) and check the artifact URL serves the JAR itself, not an HTML page."
      )
    }
  }

  private static func isDirectory(_ path: String) -> Bool {
    var isDir: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
  }
}
