#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The process environment, without Foundation.
public enum Environment {
  /// The search path used when `PATH` is unset.
  public static let defaultSearchPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

  /// The environment as an ordered list of `KEY=value` strings (as Go's `os.Environ()`).
  public static func list() -> [String] {
    var result: [String] = []
    var pointer = environ
    while let entry = pointer.pointee {
      result.append(String(cString: entry))
      pointer += 1
    }
    return result
  }

  /// The environment as a dictionary (the first of repeated keys wins, as in `getenv`).
  public static func dictionary() -> [String: String] {
    var result: [String: String] = [:]
    for entry in list() {
      guard let equals = entry.firstIndex(of: "=") else { continue }
      let key = String(entry[..<equals])
      if result[key] == nil { result[key] = String(entry[entry.index(after: equals)...]) }
    }
    return result
  }

  /// One variable's value; nil when unset.
  public static func value(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
  }

  /// The first executable named `name` in the directories of `searchPath` (a `PATH` value;
  /// this process's `PATH` when nil, `defaultSearchPath` when that is unset too). A name with a
  /// slash is returned as it is when executable.
  public static func executable(named name: String, searchPath: String? = nil) -> String? {
    if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
    let path = searchPath ?? value("PATH") ?? defaultSearchPath
    for directory in path.split(separator: ":") where !directory.isEmpty {
      let candidate = directory + "/" + name
      if access(candidate, X_OK) == 0 { return candidate }
    }
    return nil
  }
}
