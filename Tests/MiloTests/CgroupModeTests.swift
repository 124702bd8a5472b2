import Foundation
import Testing

@testable import Milo

@Suite struct CgroupModeTests {
  @Test func plainDirectoryIsNoCgroupMount() {
    let dir = TempDir("milo-cgroup")
    dir.makeDirectory("unified")
    dir.makeDirectory("memory")
    #expect(CgroupMode.detect(root: dir.path) == .none)
    #expect(CgroupMode.detect(root: "/nonexistent/cgroup") == .none)
  }

  @Test func hiddenUnifiedMountOnlyForHybrid() {
    #expect(CgroupMode.hiddenUnifiedMount(for: .hybrid, root: "/sys/fs/cgroup") == "/sys/fs/cgroup/unified")
    #expect(CgroupMode.hiddenUnifiedMount(for: .hybrid, root: "/x") == "/x/unified")
    #expect(CgroupMode.hiddenUnifiedMount(for: .v1) == nil)
    #expect(CgroupMode.hiddenUnifiedMount(for: .v2) == nil)
    #expect(CgroupMode.hiddenUnifiedMount(for: .none) == nil)
  }

  @Test func removeTaskCgroupsRemovesOnlyEmptyDirectories() {
    let dir = TempDir("milo-cgroup")
    dir.makeDirectory("milo/abc")
    dir.makeDirectory("cpu/milo/abc")
    dir.makeDirectory("memory/milo/abc")
    dir.write("memory/milo/abc/busy", "1")
    dir.makeDirectory("pids/milo/other")
    CgroupMode.removeTaskCgroups("/milo/abc", root: dir.path)
    let fm = FileManager.default
    #expect(!fm.fileExists(atPath: dir.path + "/milo/abc"))
    #expect(!fm.fileExists(atPath: dir.path + "/cpu/milo/abc"))
    #expect(fm.fileExists(atPath: dir.path + "/memory/milo/abc/busy"))
    #expect(fm.fileExists(atPath: dir.path + "/pids/milo/other"))
    #expect(fm.fileExists(atPath: dir.path + "/cpu/milo"))
  }

  /// Nomad's `unique.cgroup.version` rule: v2 only when the root is the unified hierarchy.
  @Test func versionCountsHybridAsV1() {
    #expect(CgroupMode.v2.version == "v2")
    #expect(CgroupMode.v1.version == "v1")
    #expect(CgroupMode.hybrid.version == "v1")
    #expect(CgroupMode.none.version == nil)
  }

  @Test func rawValues() {
    #expect(CgroupMode(rawValue: "hybrid") == .hybrid)
    #expect(CgroupMode.v2.rawValue == "v2")
  }
}
