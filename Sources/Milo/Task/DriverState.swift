import Foundation

/// What milo stores in `TaskHandle.driver_state`: enough to find a task again after the plugin
/// restarts. Encoded as JSON with an explicit format version.
public struct DriverState: Codable, Sendable, Equatable {
  /// The current format.
  public static let currentVersion = 1

  public var version: Int
  public var taskID: String
  public var containerID: String
  /// `<state_dir>/tasks/<container id>`: exit record, bundle, supervisor log.
  public var taskStateDir: String
  public var supervisorPid: Int32
  /// The supervisor's start time in clock ticks since boot (/proc/<pid>/stat field 22), to
  /// detect pid reuse.
  public var supervisorStartTicks: UInt64
  public var containerPid: Int32
  /// Wall-clock start, nanoseconds since the epoch.
  public var startedAt: Int64
  public var runtimePath: String
  public var runtimeRoot: String
  public var javaHome: String
  public var javaVersion: String

  public func encoded() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return try encoder.encode(self)
  }

  /// Decodes a stored state, with an error that says what is wrong.
  public static func decode(_ data: Data) throws(DriverStateError) -> DriverState {
    guard !data.isEmpty else { throw .empty }
    struct Versioned: Decodable { var version: Int }
    guard let versioned = try? JSONDecoder().decode(Versioned.self, from: data) else {
      throw .corrupt("not milo driver state (expected JSON with a version field)")
    }
    guard versioned.version == currentVersion else { throw .unsupportedVersion(versioned.version) }
    do {
      return try JSONDecoder().decode(DriverState.self, from: data)
    } catch {
      throw .corrupt("\(error)")
    }
  }
}

/// Why a stored driver state could not be used.
public enum DriverStateError: Error, CustomStringConvertible, Equatable {
  case empty
  case corrupt(String)
  case unsupportedVersion(Int)

  public var description: String {
    switch self {
    case .empty: "the task handle carries no milo driver state"
    case .corrupt(let why): "the task handle's driver state is corrupt: \(why)"
    case .unsupportedVersion(let version):
      "the task handle's driver state has format version \(version); this milo reads version \(DriverState.currentVersion)"
    }
  }
}
