import Foundation
import MiloSupervisor
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// The shared `/milo` parent: removed from every hierarchy once empty, never while a start
/// holds the lock, never while a task's cgroup is in it.
@Suite struct CgroupParentTests {
  @Test func removesTheEmptyParentFromEveryHierarchy() {
    let dir = TempDir("milo-parent")
    dir.makeDirectory("milo")  // v2: the parent below the root itself
    dir.makeDirectory("memory/milo")
    dir.makeDirectory("cpu,cpuacct/milo")
    dir.makeDirectory("pids")
    let parent = CgroupParent(path: "/milo", lockFile: dir.path + "/lock", root: dir.path)
    #expect(
      Set(parent.directories()) == [dir.path + "/milo", dir.path + "/memory/milo", dir.path + "/cpu,cpuacct/milo"])
    #expect(parent.removeIfUnused().count == 3)
    #expect(parent.directories().isEmpty)
    #expect(FileManager.default.fileExists(atPath: dir.path + "/pids"))
  }

  @Test func keepsAParentThatStillHoldsATask() {
    let dir = TempDir("milo-parent")
    dir.makeDirectory("memory/milo/milo-task")
    dir.makeDirectory("pids/milo")
    let parent = CgroupParent(path: "/milo", lockFile: dir.path + "/lock", root: dir.path)
    #expect(parent.removeIfUnused() == [dir.path + "/pids/milo"])
    #expect(FileManager.default.fileExists(atPath: dir.path + "/memory/milo/milo-task"))
  }

  @Test func skipsRemovalWhileAStartHoldsTheLock() throws {
    let dir = TempDir("milo-parent")
    dir.makeDirectory("memory/milo")
    let parent = CgroupParent(path: "/milo", lockFile: dir.path + "/lock", root: dir.path)
    // flock(2) locks belong to the open file description, so a second open conflicts even in
    // the same process, as another supervisor's would.
    let removedMeanwhile = parent.whileCreating { parent.removeIfUnused() }
    #expect(removedMeanwhile.isEmpty)
    #expect(parent.directories() == [dir.path + "/memory/milo"])
    #expect(parent.removeIfUnused() == [dir.path + "/memory/milo"])
  }

  @Test func taskPathsAreBelowMilosParent() {
    #expect(CgroupParent.taskPath("milo-abc") == "/milo/milo-abc")
    #expect(CgroupParent(runtimeRoot: "/run/milo/runtime").lockFile == "/run/milo/runtime/.cgroup-parent.lock")
  }
}
