import MiloSys

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

extension Supervisor {
  /// Drains and closes the relays, records the exit (exact status from `milo init`, OOM kill),
  /// logs what the relays dropped or resent, and deletes the container.
  func reportExit(_ started: inout Started, exitStatus: Int32?) {
    drain(&started.relays, deadline: Posix.monotonicNanos())
    for index in started.relays.indices { started.relays[index].closeAll() }

    var status = exitStatus ?? 0
    if started.statusFD >= 0 {
      // The init's own status is 128+N when the app died by signal N; the line is exact.
      var line = [UInt8](repeating: 0, count: 64)
      let count = line.withUnsafeMutableBytes { read(started.statusFD, $0.baseAddress, $0.count) }
      if count > 0, let exact = ExitStatusLine.parse(String(decoding: line[0..<count], as: UTF8.self)) {
        status = exact
      }
      close(started.statusFD)
    }
    let oom = oomKilled()
    let decoded = WaitStatus(status)
    let record = ExitRecord(
      exitCode: Int(decoded.shellExitCode), signal: Int(decoded.signal ?? 0), oomKilled: oom,
      startedAt: started.startedAt, finishedAt: Posix.wallNanos())
    for relay in started.relays where relay.buffer.totalDroppedBytes > 0 {
      log(
        "\(relay.name): dropped \(relay.buffer.totalDroppedLines) lines"
          + " (\(relay.buffer.totalDroppedBytes) bytes) while the log reader was slow or absent")
    }
    for relay in started.relays where relay.readerRestarts > 0 {
      log(
        "\(relay.name): the log reader restarted \(relay.readerRestarts) times; \(relay.resentBytes) bytes it had"
          + " read but not written to its files were sent again; undecided \(relay.undecidedRecoveries) times")
    }
    writeExit(record)
    deleteContainer()
    log("container \(options.containerID) exited: code \(record.exitCode) signal \(record.signal) oom \(oom)")
  }
}
