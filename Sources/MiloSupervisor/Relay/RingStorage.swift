/// The fixed memory of one `LogBuffer`: `capacity` raw bytes, allocated once and never resized.
///
/// The allocation is not initialised, so pages the buffer never reaches are never faulted in: a
/// multi-MiB capacity costs memory only as far as backlogs have actually used it.
///
/// `@unchecked Sendable`: the bytes are only written through a `LogBuffer` that holds the only
/// reference (copy-on-write), like an array's storage.
final class RingStorage: @unchecked Sendable {
  let base: UnsafeMutableRawPointer
  let capacity: Int

  init(capacity: Int) {
    self.capacity = capacity
    base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
  }

  deinit { base.deallocate() }
}
