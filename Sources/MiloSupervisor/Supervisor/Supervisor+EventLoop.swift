import MiloSys

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

extension Supervisor {
  /// Relays output and handles signals until the container exited and the relays drained (or
  /// `drainNanos` passed). Returns the container's raw wait status.
  func eventLoop(_ started: inout Started) -> Int32? {
    let containerPid = started.containerPid
    let signals = started.signals
    var exitStatus: Int32?
    var killRequested = false
    var scratch = [UInt8](repeating: 0, count: 64 << 10)
    var drainDeadline: UInt64?
    // Once more when the loop has settled: the first rounds fault in one-time code (lazy
    // metadata, the runtime's demangler) that the steady loop never runs again.
    var settledReleaseAt: UInt64? = Posix.monotonicNanos() + Self.settledReleaseNanos
    while true {
      let now = Posix.monotonicNanos()
      if exitStatus != nil {
        if drainDeadline == nil { drainDeadline = now + drainNanos }
        if started.relays.allSatisfy(\.isDrained) { break }
        if let deadline = drainDeadline, now >= deadline { break }
      }
      var pollFDs: [pollfd] = [pollfd(fd: signals.fd, events: Int16(POLLIN), revents: 0)]
      for relay in started.relays { pollFDs += relay.pollSlots(now: now) }
      var deadline = started.relays.compactMap { $0.nextDeadline(now: now) }.min()
      if let drainDeadline { deadline = min(deadline ?? drainDeadline, drainDeadline) }
      let timeoutMs: Int32 =
        deadline.map { $0 <= now ? 0 : Int32(min(($0 - now) / 1_000_000 + 1, 1000)) } ?? 1000
      let ready = poll(&pollFDs, nfds_t(pollFDs.count), timeoutMs)
      if ready < 0 && errno != EINTR { break }
      let after = Posix.monotonicNanos()

      if pollFDs[0].revents != 0 {
        handleSignals(signals, containerPid: containerPid, exitStatus: &exitStatus, killRequested: &killRequested)
      }
      for index in started.relays.indices {
        let first = 1 + index * StreamRelay.pollSlotCount
        started.relays[index].handle(
          pollFDs[first..<(first + StreamRelay.pollSlotCount)], now: after, scratch: &scratch)
      }
      if let at = settledReleaseAt, after >= at {
        ProcessRole.releaseStartupMemory()
        settledReleaseAt = nil
      }
    }
    if exitStatus == nil {
      reap(containerPid: containerPid, into: &exitStatus)
    }
    return exitStatus
  }

  /// Reads every pending signal: reaps on SIGCHLD, forwards the carrier's payload, and kills
  /// the container on the first stop signal.
  private func handleSignals(
    _ signals: SignalFD, containerPid: pid_t, exitStatus: inout Int32?, killRequested: inout Bool
  ) {
    while let (sig, value) = signals.next() {
      if sig == SIGCHLD {
        reap(containerPid: containerPid, into: &exitStatus)
      } else if sig == Supervisor.forwardCarrier {
        // The plugin asks us to deliver `value` to the application. We only signal the
        // container's pid while it is our unreaped child, so the pid cannot be reused.
        if exitStatus == nil && value > 0 {
          log("delivering signal \(value) to the container")
          deliver(value, to: containerPid)
        }
      } else if !killRequested {
        // The plugin asked us to end the task (DestroyTask with force).
        killRequested = true
        log("received signal \(sig): killing container \(options.containerID)")
        kill(containerPid, SIGKILL)
      }
    }
  }
}
