import CMiloSys

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The per-task supervisor: the parent of one container for its whole life.
///
/// It runs in its own session, holds none of the plugin's sockets, and so outlives plugin
/// restarts. It starts the container with the OCI runtime, stays its subreaper to learn the real
/// exit status, relays stdout and stderr into Nomad's log FIFOs, records the exit durably in the
/// state directory and deletes the container.
///
/// Readiness is reported on standard output, which the plugin reads: `ok <pid>` once the
/// container runs, or `error <message>` when it could not start.
public struct Supervisor {
  /// The signal that carries a request to forward its payload (a signal number) to the app.
  public static let forwardCarrier = SIGUSR2

  let options: SupervisorOptions
  let log: (String) -> Void
  /// How long to keep relaying after the container exited before closing the FIFOs.
  public var drainNanos: UInt64 = 1_500_000_000
  /// When, after the start, the supervisor drops the code pages its first rounds touched.
  static let settledReleaseNanos: UInt64 = 10_000_000_000

  public init(options: SupervisorOptions, log: @escaping (String) -> Void) {
    self.options = options
    self.log = log
  }

  var exitPath: String { options.stateDir + "/exit" }
  var pidFile: String { options.stateDir + "/container.pid" }

  /// Runs the task to its end. Returns the process exit code for the supervisor itself.
  public func run() -> Int32 {
    signal(SIGPIPE, SIG_IGN)
    _ = milo_set_subreaper()
    let signals: [Int32] = [SIGCHLD, SIGTERM, SIGINT, SIGHUP, Supervisor.forwardCarrier]
    let sigfd = signals.withUnsafeBufferPointer { milo_signalfd_open($0.baseAddress, Int32($0.count)) }
    guard sigfd >= 0 else { return fail("signalfd: \(String(cString: strerror(-sigfd)))") }

    var outPipe: [Int32] = [0, 0]
    var errPipe: [Int32] = [0, 0]
    guard milo_pipe2(&outPipe, O_CLOEXEC) == 0, milo_pipe2(&errPipe, O_CLOEXEC) == 0 else {
      return fail("pipe2: \(String(cString: strerror(errno)))")
    }
    var relays = [
      StreamRelay(
        name: "stdout", input: outPipe[0], sinkPath: options.stdoutPath,
        capacity: options.bufferBytes, policy: RelayPolicy(lineBuffered: true)),
      StreamRelay(
        name: "stderr", input: errPipe[0], sinkPath: options.stderrPath,
        capacity: options.bufferBytes, policy: RelayPolicy(lineBuffered: false)),
    ]
    // `milo init` reports the application's exact exit status through this pipe.
    var statusPipe: [Int32] = [-1, -1]
    if options.containerInit && milo_pipe2(&statusPipe, O_CLOEXEC | O_NONBLOCK) != 0 {
      return fail("pipe2: \(String(cString: strerror(errno)))")
    }
    var runArguments = [options.runtime, "--root", options.runtimeRoot, "run", "--detach"]
    if options.containerInit { runArguments += ["--preserve-fds", "1"] }
    runArguments += ["--bundle", options.bundle, "--pid-file", pidFile, options.containerID]
    let startedAt = Posix.wallNanos()
    let runtimeStatus: Int32
    do {
      // The runtime creates the task's cgroup below the shared parent: no task may remove
      // the parent meanwhile.
      let create = {
        let pid = try Spawn.start(
          runArguments, environment: currentEnvironment(),
          stdio: Spawn.Stdio(stdin: -1, stdout: outPipe[1], stderr: errPipe[1]),
          hideMount: options.hideMount, passFD: statusPipe[1])
        return Spawn.waitFor(pid)
      }
      runtimeStatus = try options.parent?.whileCreating(create) ?? create()
    } catch {
      close(outPipe[1])
      close(errPipe[1])
      return fail("could not run \(options.runtime): \(error)")
    }
    close(outPipe[1])
    close(errPipe[1])
    if statusPipe[1] >= 0 { close(statusPipe[1]) }

    let containerPid = Posix.readText(pidFile).flatMap {
      pid_t($0.trimmed(" \n"))
    }
    guard Spawn.exitCode(runtimeStatus) == 0, let containerPid, containerPid > 0 else {
      // The runtime explains itself on its stderr, which is the task's stderr pipe.
      var scratch = [UInt8](repeating: 0, count: 64 << 10)
      relays[1].readInput(now: Posix.monotonicNanos(), scratch: &scratch)
      var message = ""
      relays[1].buffer.consume { raw in
        message = String(decoding: raw, as: UTF8.self)
        return 0
      }
      drain(&relays, deadline: Posix.monotonicNanos() + 200_000_000)
      let reason =
        "\(options.runtime) run exited with \(Spawn.exitCode(runtimeStatus)): "
        + message.trimmed(" \n")
      deleteContainer()
      return fail(reason, startedAt: startedAt)
    }
    report("ok \(containerPid)\n")
    milo_release_startup_memory()
    log("container \(options.containerID) running as pid \(containerPid)")

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
        if relays.allSatisfy(\.isDrained) { break }
        if let deadline = drainDeadline, now >= deadline { break }
      }
      var pollFDs: [pollfd] = [pollfd(fd: sigfd, events: Int16(POLLIN), revents: 0)]
      for relay in relays {
        let input = relay.shouldPauseInput(now: now) ? -1 : relay.input
        pollFDs.append(pollfd(fd: input, events: Int16(POLLIN), revents: 0))
        // Always watched while a reader is attached: POLLERR says it went away, even while
        // there is nothing to write (so its successor is known to be a successor).
        let events = relay.wantsWritable ? Int16(POLLOUT) : 0
        pollFDs.append(pollfd(fd: relay.sink.isConnected ? relay.sink.fd : -1, events: events, revents: 0))
      }
      var deadline = relays.compactMap { $0.nextDeadline(now: now) }.min()
      if let drainDeadline { deadline = min(deadline ?? drainDeadline, drainDeadline) }
      let timeoutMs: Int32 =
        deadline.map { $0 <= now ? 0 : Int32(min(($0 - now) / 1_000_000 + 1, 1000)) } ?? 1000
      let ready = poll(&pollFDs, nfds_t(pollFDs.count), timeoutMs)
      if ready < 0 && errno != EINTR { break }
      let after = Posix.monotonicNanos()

      if pollFDs[0].revents != 0 {
        while true {
          var value: Int32 = 0
          let sig = milo_signalfd_read_value(sigfd, &value)
          if sig <= 0 { break }
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
      for index in relays.indices {
        let inputEvents = pollFDs[1 + index * 2].revents
        let outputEvents = pollFDs[2 + index * 2].revents
        if inputEvents != 0 { relays[index].readInput(now: after, scratch: &scratch) }
        if outputEvents & Int16(POLLERR | POLLHUP) != 0 { relays[index].sink.markReaderGone() }
        relays[index].flush(now: after)
      }
      if let at = settledReleaseAt, after >= at {
        milo_release_startup_memory()
        settledReleaseAt = nil
      }
    }
    if exitStatus == nil {
      reap(containerPid: containerPid, into: &exitStatus)
    }
    drain(&relays, deadline: Posix.monotonicNanos())
    for index in relays.indices { relays[index].closeAll() }

    var status = exitStatus ?? 0
    if statusPipe[0] >= 0 {
      // The init's own status is 128+N when the app died by signal N; the line is exact.
      var line = [UInt8](repeating: 0, count: 64)
      let count = line.withUnsafeMutableBytes { read(statusPipe[0], $0.baseAddress, $0.count) }
      if count > 0, let exact = ExitStatusLine.parse(String(decoding: line[0..<count], as: UTF8.self)) {
        status = exact
      }
      close(statusPipe[0])
    }
    let oom = oomKilled()
    var record = ExitRecord(
      exitCode: Int(Spawn.exitCode(status)), signal: 0, oomKilled: oom, startedAt: startedAt,
      finishedAt: Posix.wallNanos())
    if milo_wifsignaled(status) != 0 { record.signal = Int(milo_wtermsig(status)) }
    for relay in relays where relay.buffer.totalDroppedBytes > 0 {
      log(
        "\(relay.name): dropped \(relay.buffer.totalDroppedLines) lines"
          + " (\(relay.buffer.totalDroppedBytes) bytes) while the log reader was slow or absent")
    }
    for relay in relays where relay.readerRestarts > 0 {
      log(
        "\(relay.name): the log reader restarted \(relay.readerRestarts) times; \(relay.resentBytes) bytes it had"
          + " read but not written to its files were sent again; undecided \(relay.undecidedRecoveries) times")
    }
    writeExit(record)
    deleteContainer()
    log("container \(options.containerID) exited: code \(record.exitCode) signal \(record.signal) oom \(oom)")
    return 0
  }

  /// Sends a signal the plugin asked for to the container's first process. Under `milo init`:
  /// waits (up to 500 ms, right after the start) until the init blocks the signal, as the kernel
  /// discards signals to a namespace's init that neither blocks nor handles them; and sends the
  /// signals the init cannot forward (SIGSTOP, SIGCHLD) straight to its children (the JVM).
  private func deliver(_ signal: Int32, to containerPid: pid_t) {
    guard options.containerInit, signal != SIGKILL else {
      kill(containerPid, signal)
      return
    }
    if ContainerInit.notForwarded.contains(signal) {
      for child in Self.children(of: containerPid) { kill(child, signal) }
      return
    }
    let deadline = Posix.monotonicNanos() + 500_000_000
    while SignalDisposition.read(pid: containerPid)?.blocked.contains(signal) != true
      && Posix.monotonicNanos() < deadline
    {
      usleep(5_000)
    }
    kill(containerPid, signal)
  }

  /// The children of `pid` (its main thread's, which for the init are all of them).
  static func children(of pid: pid_t) -> [pid_t] {
    let text = Posix.readText("/proc/\(pid)/task/\(pid)/children") ?? ""
    return text.split(separator: " ").compactMap { pid_t($0.filter { !$0.isWhitespace }) }
  }

  private func reap(containerPid: pid_t, into exitStatus: inout Int32?) {
    while true {
      var status: Int32 = 0
      let pid = waitpid(-1, &status, WNOHANG)
      if pid <= 0 { return }
      if pid == containerPid { exitStatus = status }
    }
  }

  private func drain(_ relays: inout [StreamRelay], deadline: UInt64) {
    var scratch = [UInt8](repeating: 0, count: 64 << 10)
    repeat {
      let now = Posix.monotonicNanos()
      for index in relays.indices {
        relays[index].readInput(now: now, scratch: &scratch)
        relays[index].flush(now: now, final: true)
      }
      if relays.allSatisfy({ !$0.hasPendingOutput }) { return }
      usleep(5_000)
    } while Posix.monotonicNanos() < deadline
  }

  private func oomKilled() -> Bool {
    guard let file = options.oomFile, let text = Posix.readText(file) else { return false }
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: " ")
      if parts.count == 2, parts[0] == "oom_kill", let count = Int(parts[1]) { return count > 0 }
    }
    return false
  }

  /// Deletes the container (and so its cgroup), then the cgroup parent if no task is left in it.
  private func deleteContainer() {
    let result = try? Spawn.run(
      [options.runtime, "--root", options.runtimeRoot, "delete", "--force", options.containerID],
      environment: currentEnvironment())
    if let result, result.status != 0 {
      log("delete \(options.containerID): \(result.output)")
    }
    if let removed = options.parent?.removeIfUnused(), !removed.isEmpty {
      log("removed the empty cgroup parent: \(removed.joined(separator: " "))")
    }
  }

  private func writeExit(_ record: ExitRecord) {
    do {
      try Posix.writeFileAtomically(exitPath, record.text)
    } catch {
      log("could not record the exit: \(error)")
    }
  }

  private func report(_ line: String) {
    Posix.writeAll(1, Array(line.utf8))
    let devNull = open("/dev/null", O_WRONLY)
    if devNull >= 0 {
      dup2(devNull, 1)
      close(devNull)
    }
  }

  private func fail(_ reason: String, startedAt: Int64 = Posix.wallNanos()) -> Int32 {
    log("start failed: \(reason)")
    writeExit(
      ExitRecord(
        exitCode: -1, startedAt: startedAt, finishedAt: Posix.wallNanos(), startError: reason))
    report("error \(Supervisor.oneLine(reason))\n")
    return 1
  }
}

extension Supervisor {
  /// Folds line breaks (\n, \r) into " | " so a message fits the one-line readiness protocol.
  static func oneLine(_ text: String) -> String {
    var bytes: [UInt8] = []
    var lastWasBreak = false
    for byte in text.utf8 {
      if byte == 0x0A || byte == 0x0D {
        if !lastWasBreak && !bytes.isEmpty { bytes += Array(" | ".utf8) }
        lastWasBreak = true
      } else {
        bytes.append(byte)
        lastWasBreak = false
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}

extension String {
  func trimmed(_ set: String) -> String {
    let chars = Set(set)
    var s = Substring(self)
    while let first = s.first, chars.contains(first) { s = s.dropFirst() }
    while let last = s.last, chars.contains(last) { s = s.dropLast() }
    return String(s)
  }
}
