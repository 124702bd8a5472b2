import Foundation
import NomadProto
import SwiftProtobuf

/// What NomadHost persists per task (Nomad's `LocalState` + `TaskState` in the client state DB):
/// the driver handle as returned by `StartTask`, and the task state. Stored as JSON in
/// `<alloc_dir>/.nomad-host/<task>.task.json`, the handle as base64 protobuf bytes, so a new host
/// process can `RecoverTask` with it.
public struct PersistedTask: Sendable, Codable {
  public var taskName: String
  public var driver: String
  /// The handle's `config.id`.
  public var taskID: String?
  /// `TaskHandle` protobuf bytes.
  public var handle: Data?
  public var state: TaskState
  /// `LocalState.RunComplete`.
  public var runComplete: Bool

  public init(taskName: String, driver: String, taskID: String?, handle: Data?, state: TaskState, runComplete: Bool) {
    self.taskName = taskName
    self.driver = driver
    self.taskID = taskID
    self.handle = handle
    self.state = state
    self.runComplete = runComplete
  }

  /// The decoded handle.
  public var taskHandle: TaskHandleProto? {
    guard let handle else { return nil }
    return try? TaskHandleProto(serializedBytes: handle)
  }
}

/// The alloc-level record: which job file and alloc this directory belongs to.
public struct PersistedAlloc: Sendable, Codable {
  public var allocID: String
  public var jobID: String
  public var groupName: String
  /// The job file's text, to rebuild the job on restore.
  public var jobJSON: String?
  /// The netns path, if one was created.
  public var networkNamespace: String?
  public var createdAt: Date

  public init(allocID: String, jobID: String, groupName: String, jobJSON: String?, networkNamespace: String?) {
    self.allocID = allocID
    self.jobID = jobID
    self.groupName = groupName
    self.jobJSON = jobJSON
    self.networkNamespace = networkNamespace
    self.createdAt = Date()
  }
}

/// Reads and writes `PersistedTask` and `PersistedAlloc` files atomically.
public struct TaskStateStore: Sendable {
  /// `<alloc_dir>/.nomad-host`.
  public let directory: String

  public init(allocDir: AllocDir) {
    directory = allocDir.stateDir
  }

  public init(directory: String) {
    self.directory = directory
  }

  private static let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.dateEncodingStrategy = .iso8601
    return encoder
  }()

  private static func decoder() -> JSONDecoder {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return decoder
  }

  public func taskPath(_ task: String) -> String { "\(directory)/\(task).task.json" }
  public var allocPath: String { "\(directory)/alloc.json" }

  public func save(_ task: PersistedTask) throws {
    try write(Self.encoder.encode(task), to: taskPath(task.taskName))
  }

  public func loadTask(_ name: String) throws -> PersistedTask {
    try Self.decoder().decode(PersistedTask.self, from: Data(contentsOf: URL(fileURLWithPath: taskPath(name))))
  }

  public func save(_ alloc: PersistedAlloc) throws {
    try write(Self.encoder.encode(alloc), to: allocPath)
  }

  public func loadAlloc() throws -> PersistedAlloc {
    try Self.decoder().decode(PersistedAlloc.self, from: Data(contentsOf: URL(fileURLWithPath: allocPath)))
  }

  private func write(_ data: Data, to path: String) throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try data.write(to: URL(fileURLWithPath: path), options: .atomic)
  }
}

extension TaskHandleProto {
  /// The protobuf bytes.
  var serializedData: Data? { try? serializedBytes() }
}
