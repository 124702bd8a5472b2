import Foundation

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// An HTTP API request failed or answered with an error status.
public struct NomadAPIError: Error, CustomStringConvertible {
  public var path: String
  public var status: Int
  public var body: String
  public var description: String { "GET/PUT \(path) -> HTTP \(status): \(body.prefix(600))" }
}

/// Nomad's HTTP API on a loopback address, as the CLI and the web UI use it.
public struct NomadAPI: Sendable {
  public let address: String

  public init(address: String) { self.address = address }

  /// The raw body of `GET path` (path starts with `/v1/`).
  public func get(_ path: String, timeout: Double = 30) async throws -> Data {
    try await send("GET", path, body: nil, timeout: timeout)
  }

  /// `GET path` decoded as JSON.
  public func json(_ path: String) async throws -> Any {
    try JSONSerialization.jsonObject(with: try await get(path), options: [.fragmentsAllowed])
  }

  /// `PUT path` or `POST path` with a JSON body; returns the response body.
  @discardableResult
  public func send(_ method: String, _ path: String, body: Data?, timeout: Double = 30)
    async throws -> Data
  {
    guard let url = URL(string: address + path) else {
      throw NomadAPIError(path: path, status: 0, body: "not a URL")
    }
    var request = URLRequest(url: url, timeoutInterval: timeout)
    request.httpMethod = method
    request.httpBody = body
    let (data, response) = try await URLSession.shared.data(for: request)
    let status = (response as? HTTPURLResponse)?.statusCode ?? 0
    guard (200..<300).contains(status) else {
      throw NomadAPIError(path: path, status: status, body: String(decoding: data, as: UTF8.self))
    }
    return data
  }

  /// The allocations of `job`, newest first, as the API lists them.
  public func allocations(job: String) async throws -> [Allocation] {
    let list = try await json("/v1/job/\(job)/allocations") as? [[String: Any]] ?? []
    return list.map(Allocation.init).sorted { $0.createIndex > $1.createIndex }
  }

  /// One allocation, with its task states and events.
  public func allocation(_ id: String) async throws -> Allocation {
    Allocation(try await json("/v1/allocation/\(id)") as? [String: Any] ?? [:])
  }

  /// A task's log, read as the web UI reads it: the whole stream from the start, raw bytes.
  public func logs(alloc: String, task: String, stderr: Bool = false) async throws -> Data {
    let type = stderr ? "stderr" : "stdout"
    return try await get(
      "/v1/client/fs/logs/\(alloc)?task=\(task)&type=\(type)&plain=true&origin=start")
  }

  /// Deregisters `job` and purges it.
  public func purge(job: String) async throws {
    try await send("DELETE", "/v1/job/\(job)?purge=true", body: nil)
  }
}

/// The parts of an allocation the tests read.
public struct Allocation: @unchecked Sendable {
  public let raw: [String: Any]
  public init(_ raw: [String: Any]) { self.raw = raw }

  public var id: String { raw["ID"] as? String ?? "" }
  public var clientStatus: String { raw["ClientStatus"] as? String ?? "" }
  public var desiredStatus: String { raw["DesiredStatus"] as? String ?? "" }
  public var createIndex: Int { raw["CreateIndex"] as? Int ?? 0 }
  public var taskStates: [String: TaskState] {
    (raw["TaskStates"] as? [String: [String: Any]] ?? [:]).mapValues(TaskState.init)
  }
}

/// A task's state in an allocation: "pending", "running" or "dead", and its events.
public struct TaskState: @unchecked Sendable {
  public let raw: [String: Any]
  public init(_ raw: [String: Any]) { self.raw = raw }

  public var state: String { raw["State"] as? String ?? "" }
  public var failed: Bool { raw["Failed"] as? Bool ?? false }
  public var restarts: Int { raw["Restarts"] as? Int ?? 0 }
  public var events: [TaskEvent] { (raw["Events"] as? [[String: Any]] ?? []).map(TaskEvent.init) }
}

/// One task event as `nomad alloc status` shows it.
public struct TaskEvent: @unchecked Sendable, CustomStringConvertible {
  public let raw: [String: Any]
  public init(_ raw: [String: Any]) { self.raw = raw }

  public var type: String { raw["Type"] as? String ?? "" }
  public var message: String { raw["DisplayMessage"] as? String ?? "" }
  public var exitCode: Int { raw["ExitCode"] as? Int ?? 0 }
  public var signal: Int { raw["Signal"] as? Int ?? 0 }
  public var time: Int { raw["Time"] as? Int ?? 0 }
  public var description: String { "\(type): \(message)" }
}
