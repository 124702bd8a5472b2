import Foundation

/// A job running the test JAR under one driver, written as the HCL a user would submit.
public struct JobSpec: Sendable {
  /// The task drivers the suite and the benchmarks compare.
  public enum Driver: String, Sendable, CaseIterable {
    case milo
    /// Nomad's built-in java driver (chroot isolation, its own executor per task).
    case java
    /// Nomad's raw_exec running `java -jar`: no isolation at all, the floor.
    case rawExec = "raw_exec"
  }

  public var name: String
  public var driver: Driver = .milo
  public var type = "service"
  public var count = 1
  public var taskName = "app"
  public var artifactURL: String
  public var jarFile = "testapp.jar"
  public var jvmOptions: [String] = ["-Xmx32m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]
  public var args: [String] = []
  /// Extra lines inside milo's `config { }` (e.g. `jar_path = "..."`).
  public var extraConfig: [String] = []
  public var cpu = 100
  public var memory = 128
  public var killTimeout = "5s"
  /// Extra lines inside the group (e.g. a `volume` block).
  public var extraGroup: [String] = []
  /// Extra lines inside the task (e.g. a `volume_mount` block).
  public var extraTask: [String] = []

  public init(name: String, artifactURL: String) {
    self.name = name
    self.artifactURL = artifactURL
  }

  /// The job file's text.
  public var hcl: String {
    var config: [String] = []
    switch driver {
    case .milo:
      config.append("jvm_options = \(list(jvmOptions))")
      config.append("args = \(list(args))")
    case .java:
      config.append("jar_path = \(quote("local/" + jarFile))")
      config.append("jvm_options = \(list(jvmOptions))")
      config.append("args = \(list(args))")
    case .rawExec:
      config.append("command = \"java\"")
      config.append("args = \(list(jvmOptions + ["-jar", "local/" + jarFile] + args))")
    }
    config += extraConfig
    return """
      job \(quote(name)) {
        datacenters = ["dc1"]
        type = \(quote(type))
        group "g" {
          count = \(count)
          restart {
            attempts = 0
            mode = "fail"
          }
      \(type == "service" ? "    reschedule {\n      attempts = 0\n      unlimited = false\n    }" : "")
      \(extraGroup.map { "    " + $0 }.joined(separator: "\n"))
          task \(quote(taskName)) {
            driver = \(quote(driver.rawValue))
            kill_timeout = \(quote(killTimeout))
            artifact {
              source = \(quote(artifactURL))
            }
            config {
      \(config.map { "        " + $0 }.joined(separator: "\n"))
            }
      \(extraTask.map { "        " + $0 }.joined(separator: "\n"))
            resources {
              cpu = \(cpu)
              memory = \(memory)
            }
            logs {
              max_files = 3
              max_file_size = 20
            }
          }
        }
      }

      """
  }

  private func quote(_ s: String) -> String {
    var out = "\""
    for c in s.unicodeScalars {
      switch c {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      default: out.unicodeScalars.append(c)
      }
    }
    // HCL2 templates: `${` and `%{` start interpolations; doubling the sigil escapes them.
    out = out.replacingOccurrences(of: "${", with: "$${")
    out = out.replacingOccurrences(of: "%{", with: "%%{")
    return out + "\""
  }

  private func list(_ items: [String]) -> String {
    "[" + items.map(quote).joined(separator: ", ") + "]"
  }
}
