import Foundation
import MiloSupervisor
import MiloSys

extension ExecProcess {
  /// Kills the command (inside the container), then the runtime process if it has not exited
  /// 2 s later. Returns at once. Killing the command first lets the runtime reap it and report
  /// its status (an orphan would be reaped by the container's `milo init` instead, unseen).
  func kill() {
    // The killer's own copy of the pidfd: `release` may close ours while it waits.
    let copy = state.withLock { state -> PidFD?? in
      guard !state.exited, !state.killing, !state.released else { return nil }
      state.killing = true
      return .some(pidfd?.duplicate())
    }
    guard let runtime = copy else { return }
    Blocking.detach(name: "exec-kill") { [self] in
      defer { runtime?.close() }
      if waitForRuntimeExit(runtime) { return }
      state.withLock { state in
        guard !state.exited else { return }
        // Without a copy (dup failed), ours while it is not released.
        let target = runtime ?? (state.released ? nil : pidfd)
        target?.send(SIGKILL)
      }
    }
  }

  /// Blocks until the runtime process behind `runtime` (nil: unknown) exits (true) or
  /// 2 s pass (false). Meanwhile kills the command once the runtime has written its pid file,
  /// woken by inotify when a file in that directory is written, not by polling.
  private func waitForRuntimeExit(_ runtime: PidFD?) -> Bool {
    let deadline = Posix.monotonicNanos() + 2_000_000_000
    var watch = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
    let directory = String(pidFile[..<(pidFile.lastIndex(of: "/") ?? pidFile.endIndex)])
    if watch >= 0, inotify_add_watch(watch, directory, UInt32(IN_CLOSE_WRITE | IN_MOVED_TO)) < 0 {
      close(watch)
      watch = -1
    }
    defer { if watch >= 0 { close(watch) } }
    var commandKilled = false
    var events = [UInt8](repeating: 0, count: 4096)
    while true {
      if state.withLock({ $0.exited }) { return true }
      if !commandKilled { commandKilled = killCommand() }
      let now = Posix.monotonicNanos()
      guard now < deadline else { return false }
      var timeout = Int32(clamping: (deadline - now + 999_999) / 1_000_000)
      // Without inotify (e.g. out of instances), the pid file is looked for every 10 ms instead.
      if !commandKilled && watch < 0 { timeout = min(timeout, 10) }
      var fds = [
        pollfd(fd: runtime?.fd ?? -1, events: Int16(POLLIN), revents: 0),
        pollfd(fd: commandKilled ? -1 : watch, events: Int16(POLLIN), revents: 0),
      ]
      if poll(&fds, 2, timeout) < 0 && errno != EINTR { return false }
      if fds[0].revents != 0 { return true }  // it exited; `wait` reaps it
      if fds[1].revents != 0 { _ = read(watch, &events, events.count) }
    }
  }

  /// SIGKILLs the command and everything it started, once its pid is known; only while it is
  /// still the runtime's child. The tree is stopped first so nothing forks away meanwhile.
  /// (What it leaves behind is adopted and reaped by the container's `milo init`.)
  func killCommand() -> Bool {
    guard let text = Posix.readText(pidFile),
      let inner = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), inner > 0
    else { return false }
    guard let command = try? PidFD(pid: inner) else { return true }  // already gone
    defer { command.close() }
    guard Self.parentPid(of: inner) == pid else { return true }
    command.send(SIGSTOP)
    var tree: Set<Int32> = []
    for _ in 0..<5 {
      let found = Set(Self.descendants(of: inner)).subtracting(tree)
      if found.isEmpty { break }
      for process in found { Glibc.kill(process, SIGSTOP) }
      tree.formUnion(found)
    }
    command.send(SIGKILL)
    for process in tree { Glibc.kill(process, SIGKILL) }
    return true
  }

  /// The pids below `root` in the process tree (from the `PPid` of every process).
  static func descendants(of root: Int32) -> [Int32] {
    var children: [Int32: [Int32]] = [:]
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
      guard let process = Int32(entry), let parent = parentPid(of: process) else { continue }
      children[parent, default: []].append(process)
    }
    var result: [Int32] = []
    var queue = children[root] ?? []
    while let next = queue.popLast() {
      result.append(next)
      queue += children[next] ?? []
    }
    return result
  }

  static func parentPid(of pid: Int32) -> Int32? {
    guard let text = Posix.readText("/proc/\(pid)/status") else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("PPid:") {
      return Int32(line.dropFirst(5).trimmingCharacters(in: .whitespaces))
    }
    return nil
  }
}
