import Foundation
import NomadPlugin

/// What milo found on the host: the runtime, the Java runtimes, the cgroup layout.
public struct HostReport: Sendable, Equatable {
  public var runtime: OCIRuntime?
  public var javas: [JavaRuntime]
  public var defaultJava: JavaRuntime?
  public var cgroup: CgroupMode
  /// Problems that make the driver unhealthy, each with what to do about it.
  public var problems: [String]
  /// What the Java search looked at, for error messages.
  public var javaSearched: String
  /// Whether the plugin runs as root (it must, to create containers).
  public var isRoot: Bool

  /// What the operator reads when the plugin does not run as root.
  public static let notRootProblem = "milo must run as root to create containers; run the Nomad client as root."

  public var isHealthy: Bool { problems.isEmpty }
}

/// Inspects the host for the configured runtime, Java and cgroups. Cheap: no JVM is started.
public struct HostProbe: Sendable {
  public var config: PluginConfig
  public var environment: [String: String]
  public var cgroupRoot = "/sys/fs/cgroup"

  public init(config: PluginConfig, environment: [String: String] = ProcessInfo.processInfo.environment) {
    self.config = config
    self.environment = environment
  }

  public func probe() -> HostReport {
    var problems: [String] = []
    let isRoot = geteuid() == 0
    if !isRoot { problems.append(HostReport.notRootProblem) }
    var runtime: OCIRuntime?
    do {
      runtime = try OCIRuntime.locate(
        name: config.runtime, path: config.runtimePath, pathEnv: environment["PATH"])
    } catch {
      problems.append(error.description)
    }
    let discovery = JavaDiscovery(searchPaths: config.javaSearchPaths, environment: environment)
    var javas = discovery.discover()
    // The operator's default_java_home counts as installed even outside the search paths.
    if !config.defaultJavaHome.isEmpty,
      let extra = JavaDiscovery.inspect(
        home: URL(fileURLWithPath: config.defaultJavaHome).resolvingSymlinksInPath().path),
      !javas.contains(where: { $0.home == extra.home })
    {
      javas.append(extra)
    }
    var defaultJava: JavaRuntime?
    do {
      defaultJava = try JavaSelection.choose(
        from: javas, home: config.defaultJavaHome.isEmpty ? nil : config.defaultJavaHome,
        version: config.defaultJavaVersion.isEmpty ? nil : config.defaultJavaVersion,
        pathJava: discovery.pathJavaHome(), searched: discovery.searchedDescription,
        settingNames: ("default_java_home", "default_java_version"))
    } catch {
      problems.append(error.description)
    }
    let cgroup = CgroupMode.detect(root: cgroupRoot)
    if cgroup == .none {
      problems.append(
        "No usable cgroup hierarchy at \(cgroupRoot): mount cgroup v2 (or v1 controllers) so limits can be enforced.")
    }
    return HostReport(
      runtime: runtime, javas: javas, defaultJava: defaultJava, cgroup: cgroup, problems: problems,
      javaSearched: discovery.searchedDescription, isRoot: isRoot)
  }

  /// The fingerprint Nomad shows for the node (`driver.milo.*` attributes and health).
  public static func fingerprint(_ report: HostReport, version: String) -> Fingerprint {
    var response = Fingerprint()
    func attr(_ value: Attribute.Value) -> Attribute { Attribute(value) }
    response.attributes["driver.milo"] = attr(.bool(report.isHealthy))
    response.attributes["driver.milo.version"] = attr(.string(version))
    response.attributes["driver.milo.cgroup"] = attr(.string(report.cgroup.rawValue))
    if let version = report.cgroup.version {
      response.attributes["driver.milo.cgroup.version"] = attr(.string(version))
    }
    if let runtime = report.runtime {
      response.attributes["driver.milo.runtime"] = attr(.string(runtime.name))
      response.attributes["driver.milo.runtime.version"] = attr(.string(runtime.versionNumber))
    }
    if let java = report.defaultJava {
      response.attributes["driver.milo.java.version"] = attr(.string(java.version))
      response.attributes["driver.milo.java.vendor"] = attr(.string(java.vendor))
      response.attributes["driver.milo.java.runtime"] = attr(.string(java.runtimeVersion))
      response.attributes["driver.milo.java.home"] = attr(.string(java.home))
    }
    if report.isHealthy {
      response.health = .healthy
      response.healthDescription = "Healthy"
    } else {
      response.health = .unhealthy
      response.healthDescription = report.problems.joined(separator: " ")
    }
    return response
  }
}
