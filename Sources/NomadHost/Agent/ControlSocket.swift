import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// A newline-delimited JSON control socket: the `run` agent listens on
/// `<data_dir>/nomad-host.sock`; each connection sends one request line and reads response
/// lines until the server closes it. Used by `nomad-host status|stats|signal|exec`.
public final class ControlServer: Sendable {
  /// Handles one request; write response lines with `reply`, return to close the connection.
  public typealias Handler =
    @Sendable (_ request: JSONValue, _ reply: @escaping @Sendable (String) -> Bool) async -> Void

  /// The socket path.
  public let path: String
  private let fd: Int32
  private let closed = Atomic<Bool>(false)

  /// Binds and listens (removing a stale socket file), then serves on a background thread.
  public init(path: String, handler: @escaping Handler) throws {
    self.path = path
    unlink(path)
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw Posix.Failure(operation: "socket", path: path, code: errno) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
      Glibc.close(fd)
      throw Posix.Failure(operation: "bind", path: path, code: ENAMETOOLONG)
    }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      for (i, byte) in bytes.enumerated() { raw[i] = byte }
    }
    let rc = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard rc == 0, listen(fd, 16) == 0 else {
      let code = errno
      Glibc.close(fd)
      throw Posix.Failure(operation: "bind", path: path, code: code)
    }
    self.fd = fd
    Posix.detachThread(name: "control-accept") { [self] in
      while !self.closed.load(ordering: .acquiring) {
        let client = accept(fd, nil, nil)
        if client < 0 {
          if errno == EINTR { continue }
          return
        }
        Task { await Self.serve(client, handler: handler) }
      }
    }
  }

  private static func serve(_ client: Int32, handler: Handler) async {
    let request = await withCheckedContinuation { (continuation: CheckedContinuation<[UInt8], Never>) in
      Posix.detachThread(name: "control-read") {
        var line: [UInt8] = []
        while let chunk = try? Posix.read(client, capacity: 4096) {
          if let newline = chunk.firstIndex(of: UInt8(ascii: "\n")) {
            line += chunk[..<newline]
            break
          }
          line += chunk
        }
        continuation.resume(returning: line)
      }
    }
    let parsed = (try? JSONValue.parse(String(decoding: request, as: UTF8.self))) ?? .null
    let open = Mutex(true)
    await handler(parsed) { text in
      open.withLock { isOpen in
        guard isOpen else { return false }
        var data = Array(text.utf8)
        data.append(UInt8(ascii: "\n"))
        if Posix.writeAll(client, data) != nil { isOpen = false }
        return isOpen
      }
    }
    _ = open.withLock { _ in Glibc.close(client) }
  }

  /// Stops accepting and removes the socket file.
  public func close() {
    guard closed.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
      return
    }
    shutdown(fd, Int32(SHUT_RDWR))
    Glibc.close(fd)
    unlink(path)
  }

  deinit { close() }
}

/// Sends one request to a control socket and yields the response lines.
public enum ControlClient {
  public static func request(path: String, _ request: String) -> AsyncThrowingStream<String, any Error> {
    AsyncThrowingStream { continuation in
      Posix.detachThread(name: "control-client") {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else {
          continuation.finish(throwing: Posix.Failure(operation: "socket", path: path, code: errno))
          return
        }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
          for (i, byte) in bytes.prefix(raw.count - 1).enumerated() { raw[i] = byte }
        }
        let rc = withUnsafePointer(to: &address) {
          $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
          }
        }
        guard rc == 0 else {
          continuation.finish(
            throwing: ControlError(
              "cannot connect to \(path): \(Posix.errorText(errno)) (is `nomad-host run` running?)"))
          return
        }
        Posix.writeAll(fd, Array((request + "\n").utf8))
        var pending: [UInt8] = []
        while let chunk = try? Posix.read(fd, capacity: 64 * 1024) {
          pending += chunk
          while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            continuation.yield(String(decoding: pending[..<newline], as: UTF8.self))
            pending.removeSubrange(...newline)
          }
        }
        if !pending.isEmpty { continuation.yield(String(decoding: pending, as: UTF8.self)) }
        continuation.finish()
      }
    }
  }
}

/// A control socket failure.
public struct ControlError: Error, CustomStringConvertible, Sendable {
  public var description: String
  public init(_ description: String) { self.description = description }
}
