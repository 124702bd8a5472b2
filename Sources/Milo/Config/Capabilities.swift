/// Linux capability names as milo accepts them in `allow_caps` and `cap_add`.
public enum Capabilities {
  /// Lowercases and strips a `CAP_` prefix: `CAP_NET_RAW` → `net_raw`.
  public static func normalize(_ name: String) -> String {
    let lower = name.lowercased()
    return lower.hasPrefix("cap_") ? String(lower.dropFirst(4)) : lower
  }

  /// The OCI spelling: `net_raw` → `CAP_NET_RAW`.
  public static func ociName(_ normalized: String) -> String { "CAP_" + normalized.uppercased() }

  /// Every capability Linux defines (as of 6.x).
  public static let known: Set<String> = [
    "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid",
    "setpcap", "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw",
    "ipc_lock", "ipc_owner", "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct",
    "sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time", "sys_tty_config", "mknod",
    "lease", "audit_write", "audit_control", "setfcap", "mac_override", "mac_admin", "syslog",
    "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore",
  ]
}
