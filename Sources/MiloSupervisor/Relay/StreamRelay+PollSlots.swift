#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

extension StreamRelay {
  /// How many `pollfd` entries a relay takes in the supervisor's poll set.
  static let pollSlotCount = 2

  /// The relay's poll entries: its input (none while paused) and its sink. The sink is always
  /// watched while a reader is attached: POLLERR says it went away, even while there is nothing
  /// to write (so its successor is known to be a successor).
  func pollSlots(now: UInt64) -> [pollfd] {
    let input = shouldPauseInput(now: now) ? -1 : self.input
    let events = wantsWritable ? Int16(POLLOUT) : 0
    return [
      pollfd(fd: input, events: Int16(POLLIN), revents: 0),
      pollfd(fd: sink.isConnected ? sink.fd : -1, events: events, revents: 0),
    ]
  }

  /// Acts on what poll reported for the relay's entries (`slots`, as from `pollSlots`), then
  /// flushes.
  mutating func handle(_ slots: ArraySlice<pollfd>, now: UInt64, scratch: inout [UInt8]) {
    let inputEvents = slots[slots.startIndex].revents
    let outputEvents = slots[slots.startIndex + 1].revents
    if inputEvents != 0 { readInput(now: now, scratch: &scratch) }
    if outputEvents & Int16(POLLERR | POLLHUP) != 0 { sink.markReaderGone() }
    flush(now: now)
  }
}
