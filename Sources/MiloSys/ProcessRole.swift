import CMiloSys

/// What the calling process does for the processes below it and for its own footprint: the
/// supervisor and a container's init are long-lived parents that should cost little.
public enum ProcessRole {
  /// Marks the calling process as a child subreaper: orphaned descendants are reparented to it,
  /// so it can reap them. Returns false when the kernel refuses.
  @discardableResult
  public static func becomeSubreaper() -> Bool { milo_set_subreaper() == 0 }

  /// Drops the resident pages of the process's code mappings and returns free heap to the
  /// system; pages fault back in on use, so a helper that runs a small loop keeps only what it
  /// touches.
  public static func releaseStartupMemory() { milo_release_startup_memory() }
}
