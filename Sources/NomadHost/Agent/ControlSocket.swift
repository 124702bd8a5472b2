import Foundation
import MiloSys
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// A newline-delimited JSON control socket: the `run` agent listens on
/// `<data_dir>/nomad-host.sock`; each connection sends one request line and reads response
/// lines until the server closes it. Used by `nomad-host status|stats|signal|exec`. A request
/// may be followed by more lines from the client (interactive exec: stdin, terminal sizes);
/// the handler reads them from `input`, which ends when the client closes the connection.
public final class ControlServer: Sendable {
  /// Handles one request; write response lines with `reply`, return to close the connection.
  public typealias Handler =
    @Sendable (_ request: JSONValue, _ reply: @escaping @Sendable (String) -> Bool) async -> Void
  /// Handles one request with the client's further lines.
  public typealias StreamingHandler =
    @Sendable (
      _ request: JSONValue, _ input: AsyncStream<String>, _ reply: @escaping @Sendable (String) -> Bool
    ) async -> Void

  /// The socket path.
  public let path: String
  private let fd: Int32
  private let closed = Atomic<Bool>(false)

  /// Binds and listens (removing a stale socket file), then serves on a background thread.
  public convenience init(path: String, handler: @escaping Handler) throws {
    try self.init(path: path, streamingHandler: { request, _, reply in await handler(request, reply) })
  }

  /// Binds and listens (removing a stale socket file), then serves on a background thread.
  public init(path: String, streamingHandler handler: @escaping StreamingHandler) throws {
    self.path = path
    unlink(path)
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw Syscall.Failure(operation: "socket", path: path, code: errno) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
      Glibc.close(fd)
      throw Syscall.Failure(operation: "bind", path: path, code: ENAMETOOLONG)
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
      throw Syscall.Failure(operation: "bind", path: path, code: code)
    }
    self.fd = fd
    Blocking.detach(name: "control-accept") { [self] in
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

  private static func serve(_ client: Int32, handler: StreamingHandler) async {
    // The reader thread and the handler share the descriptor; the last one done closes it.
    let users = Mutex(2)
    let release: @Sendable () -> Void = {
      let last = users.withLock { count -> Bool in
        count -= 1
        return count == 0
      }
      if last { Glibc.close(client) }
    }
    let (input, lines) = AsyncStream.makeStream(of: String.self)
    let request = await withCheckedContinuation { (continuation: CheckedContinuation<[UInt8], Never>) in
      Blocking.detach(name: "control-read") {
        var pending: [UInt8] = []
        var first: [UInt8]?
        while let chunk = try? Syscall.read(client, capacity: 4096) {
          pending += chunk
          while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = Array(pending[..<newline])
            pending.removeSubrange(...newline)
            if first == nil {
              first = line
              continuation.resume(returning: line)
            } else {
              lines.yield(String(decoding: line, as: UTF8.self))
            }
          }
        }
        if first == nil { continuation.resume(returning: pending) }
        lines.finish()
        release()
      }
    }
    let parsed = (try? JSONValue.parse(String(decoding: request, as: UTF8.self))) ?? .null
    let open = Mutex(true)
    await handler(parsed, input) { text in
      open.withLock { isOpen in
        guard isOpen else { return false }
        var data = Array(text.utf8)
        data.append(UInt8(ascii: "\n"))
        if !Posix.writeAll(client, data) { isOpen = false }
        return isOpen
      }
    }
    open.withLock { isOpen in
      isOpen = false
      // Wakes the reader thread (EOF) if the client is still connected.
      shutdown(client, Int32(SHUT_RDWR))
    }
    release()
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
      Blocking.detach(name: "control-client") {
        let fd: Int32
        do {
          fd = try openConnection(path: path)
        } catch {
          continuation.finish(throwing: error)
          return
        }
        defer { close(fd) }
        Posix.writeAll(fd, Array((request + "\n").utf8))
        yieldLines(from: fd, to: continuation)
      }
    }
  }

  /// Yields the lines read from `fd` (the last one even without a newline) until EOF, then
  /// finishes the stream.
  static func yieldLines(from fd: Int32, to continuation: AsyncThrowingStream<String, any Error>.Continuation) {
    var pending: [UInt8] = []
    while let chunk = try? Syscall.read(fd, capacity: 64 * 1024) {
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

/// A connection for an interactive request: send further lines while reading responses.
public final class ControlSession: Sendable {
  private let fd: Int32
  private let state = Mutex((closed: false, writeClosed: false))
  /// The response lines; ends when the server closes the connection.
  public let responses: AsyncThrowingStream<String, any Error>

  init(fd: Int32, responses: AsyncThrowingStream<String, any Error>) {
    self.fd = fd
    self.responses = responses
  }

  /// Sends one line (the newline is added); false once the connection is gone.
  @discardableResult
  public func send(_ line: String) -> Bool {
    state.withLock { state in
      guard !state.closed, !state.writeClosed else { return false }
      return Posix.writeAll(fd, Array((line + "\n").utf8))
    }
  }

  /// Closes the sending side (the server sees the input end).
  public func closeWrite() {
    state.withLock { state in
      guard !state.closed, !state.writeClosed else { return }
      state.writeClosed = true
      shutdown(fd, Int32(SHUT_WR))
    }
  }

  fileprivate func closeAll() {
    state.withLock { state in
      guard !state.closed else { return }
      state.closed = true
      Glibc.close(fd)
    }
  }
}

extension ControlClient {
  /// Connects, sends `request` and returns a session for further lines and the responses.
  public static func session(path: String, _ request: String) throws -> ControlSession {
    let fd = try openConnection(path: path)
    guard Posix.writeAll(fd, Array((request + "\n").utf8)) else {
      let code = errno
      Glibc.close(fd)
      throw ControlError("cannot send to \(path): \(Syscall.errorText(code))")
    }
    let (responses, continuation) = AsyncThrowingStream.makeStream(of: String.self)
    let session = ControlSession(fd: fd, responses: responses)
    Blocking.detach(name: "control-session") {
      yieldLines(from: fd, to: continuation)
      session.closeAll()
    }
    return session
  }

  static func openConnection(path: String) throws -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw Syscall.Failure(operation: "socket", path: path, code: errno) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      for (i, byte) in bytes.prefix(raw.count - 1).enumerated() { raw[i] = byte }
    }
    let rc = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    guard rc == 0 else {
      let code = errno
      Glibc.close(fd)
      throw ControlError("cannot connect to \(path): \(Syscall.errorText(code)) (is `nomad-host run` running?)")
    }
    return fd
  }
}

/// A control socket failure.
public struct ControlError: Error, CustomStringConvertible, Sendable {
  public var description: String
  public init(_ description: String) { self.description = description }
}
