import Foundation
import MiloSupervisor
import MiloSys
import Testing

@testable import NomadHost

/// Task directories as Nomad v1.1.2's `task_dir` hook builds them for each isolation mode.
@Suite struct TaskDirTests {
  static let isRoot = geteuid() == 0

  /// A host tree to embed: a dir with a file, a subdir, a symlink and a fifo; a single file.
  static func hostTree(_ dir: TempDir) throws -> [String: String] {
    let host = dir.file("host")
    try FileManager.default.createDirectory(atPath: host + "/etc/sub", withIntermediateDirectories: true)
    try Data("a=1\n".utf8).write(to: URL(fileURLWithPath: host + "/etc/app.conf"))
    try Data("deep\n".utf8).write(to: URL(fileURLWithPath: host + "/etc/sub/deep.txt"))
    chmod(host + "/etc/sub", 0o750)
    try FileManager.default.createSymbolicLink(atPath: host + "/etc/link", withDestinationPath: "app.conf")
    mkfifo(host + "/etc/pipe", 0o600)
    try Data("single\n".utf8).write(to: URL(fileURLWithPath: host + "/single"))
    return [host + "/etc": "/etc", host + "/single": "/opt/single", host + "/missing": "/missing"]
  }

  static func client(_ dir: TempDir, hostEnv: [String: String] = ["PATH": "/host/bin", "VAULT_TOKEN": "v"])
    -> ClientConfig
  {
    var config = ClientConfig(dataDir: dir.path)
    config.hostEnvironment = hostEnv
    return config
  }

  static func context(_ alloc: AllocDir, isolation: FSIsolation) -> TaskEnvironment.Context {
    let task = TaskSpec(name: "web", driver: "milo", config: ["jar_path": "a.jar"])
    let group = GroupSpec(name: "app", tasks: [task])
    return TaskEnvironment.Context(
      job: JobSpec(id: "j", groups: [group]), group: group, task: task, allocID: alloc.allocID, allocDir: alloc,
      isolation: isolation)
  }

  /// Whether a tmpfs is mounted at `path` (/proc/self/mountinfo: mount point, then " - tmpfs").
  static func isTmpfs(_ path: String) -> Bool {
    let mounts = Posix.readText("/proc/self/mountinfo") ?? ""
    return mounts.split(separator: "\n").contains { line in
      let fields = line.split(separator: " ")
      return fields.count > 4 && fields[4] == path && line.contains(" - tmpfs ")
    }
  }

  static func inode(_ path: String) -> ino_t? {
    var info = stat()
    return lstat(path, &info) == 0 ? info.st_ino : nil
  }

  @Test func defaultChrootEnvIsNomads() {
    #expect(
      ClientConfig.defaultChrootEnv == [
        "/bin": "/bin", "/etc": "/etc", "/lib": "/lib", "/lib32": "/lib32", "/lib64": "/lib64",
        "/run/resolvconf": "/run/resolvconf", "/sbin": "/sbin", "/usr": "/usr",
        "/run/systemd/resolve": "/run/systemd/resolve",
      ])
    var config = ClientConfig(dataDir: "/d")
    #expect(config.effectiveChrootEnv == ClientConfig.defaultChrootEnv)
    config.chrootEnv = ["/x": "/y"]
    #expect(config.effectiveChrootEnv == ["/x": "/y"])
    #expect(ClientConfig.defaultEnvDenyList.count == 7)
  }

  @Test(arguments: [FSIsolation.none, .image])
  func noneAndImageGetNoAllocLinkAndNoChroot(isolation: FSIsolation) throws {
    let dir = TempDir("taskdir")
    let alloc = AllocDir(allocRoot: dir.file("alloc"), allocID: "a1")
    defer { withExtendedLifetime(dir) { alloc.destroy() } }
    try alloc.build()
    try alloc.buildTaskDir(
      "web", isolation: isolation, chroot: try Self.hostTree(dir), mountTmpfs: Self.isRoot, bindMount: Self.isRoot)
    let task = alloc.taskDir("web")
    let entries = Set((try? FileManager.default.contentsOfDirectory(atPath: task.dir)) ?? [])
    #expect(entries == ["local", "tmp", "secrets"], "\(entries)")
    #expect(Self.isTmpfs(task.secrets) == Self.isRoot)

    let env = TaskEnvironment.build(Self.context(alloc, isolation: isolation), client: Self.client(dir)).env
    if isolation == .none {
      #expect(env["NOMAD_ALLOC_DIR"] == alloc.sharedDir)
      #expect(env["NOMAD_TASK_DIR"] == task.local)
      #expect(env["NOMAD_SECRETS_DIR"] == task.secrets)
      #expect(env["PATH"] == "/host/bin")
      #expect(env["VAULT_TOKEN"] == nil)
    } else {
      #expect(env["NOMAD_ALLOC_DIR"] == "/alloc")
      #expect(env["NOMAD_TASK_DIR"] == "/local")
      #expect(env["NOMAD_SECRETS_DIR"] == "/secrets")
      #expect(env["PATH"] == nil, "image isolation: no host environment")
    }
  }

  /// As Nomad, chroot building chowns the task dir to the owner of the host's `/`: root only.
  @Test(.enabled(if: isRoot, "chroot building needs root, as in Nomad"))
  func chrootLinksTheAllocDirAndEmbedsChrootEnv() throws {
    let dir = TempDir("taskdir")
    let alloc = AllocDir(allocRoot: dir.file("alloc"), allocID: "a1")
    defer { withExtendedLifetime(dir) { alloc.destroy() } }
    try alloc.build()
    let chroot = try Self.hostTree(dir)
    try alloc.buildTaskDir("web", isolation: .chroot, chroot: chroot, mountTmpfs: Self.isRoot, bindMount: Self.isRoot)
    let task = alloc.taskDir("web")
    let host = dir.file("host")

    // chroot_env: files hard-linked (same file system), dirs recreated,
    // symlinks recreated, fifos and missing sources skipped.
    #expect(Self.inode(task.dir + "/etc/app.conf") == Self.inode(host + "/etc/app.conf"))
    #expect((try? String(contentsOfFile: task.dir + "/etc/sub/deep.txt", encoding: .utf8)) == "deep\n")
    // A directory takes the mode of the same path on the host (`createDir` stats the destination
    // path, not the source): /etc/sub does not exist there, so 0777 less the umask.
    let mask = umask(0)
    umask(mask)
    var info = stat()
    stat(task.dir + "/etc/sub", &info)
    #expect(info.st_mode & 0o777 == 0o777 & ~mask)
    #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: task.dir + "/etc/link")) == "app.conf")
    #expect(!FileManager.default.fileExists(atPath: task.dir + "/etc/pipe"))
    #expect((try? String(contentsOfFile: task.dir + "/opt/single", encoding: .utf8)) == "single\n")
    #expect(!FileManager.default.fileExists(atPath: task.dir + "/missing"))

    // A copy when linking fails (here: the destination exists, so it is kept as it is).
    try Data("changed\n".utf8).write(to: URL(fileURLWithPath: task.dir + "/opt/single.tmp"))
    try ChrootBuilder.linkOrCopy(host + "/single", task.dir + "/opt/single.tmp", uid: 0, gid: 0, mode: 0o644)
    #expect((try? String(contentsOfFile: task.dir + "/opt/single.tmp", encoding: .utf8)) == "changed\n")

    // Environment: container paths, and the host environment passes (minus the deny list).
    let env = TaskEnvironment.build(Self.context(alloc, isolation: .chroot), client: Self.client(dir)).env
    #expect(env["NOMAD_ALLOC_DIR"] == "/alloc" && env["NOMAD_TASK_DIR"] == "/local")
    #expect(env["PATH"] == "/host/bin" && env["VAULT_TOKEN"] == nil)

    guard Self.isRoot else { return }
    // As root: <task>/alloc is a bind mount of the shared alloc dir; secrets is a tmpfs.
    try Data("shared\n".utf8).write(to: URL(fileURLWithPath: alloc.dataDir + "/x"))
    #expect((try? String(contentsOfFile: task.sharedTaskDir + "/data/x", encoding: .utf8)) == "shared\n")
    #expect(Self.isTmpfs(task.secrets))
    // A rebuild (restarted task) neither mounts twice nor fails on existing entries.
    try alloc.buildTaskDir("web", isolation: .chroot, chroot: chroot, mountTmpfs: true, bindMount: true)
    let mounts = Posix.readText("/proc/self/mountinfo") ?? ""
    #expect(mounts.split(separator: "\n").filter { $0.contains(" \(task.sharedTaskDir) ") }.count == 1)
    // Unmounting removes the link (not the shared data) and the secrets.
    alloc.unmountAll()
    #expect(!FileManager.default.fileExists(atPath: task.sharedTaskDir))
    #expect(!FileManager.default.fileExists(atPath: task.secrets))
    #expect(FileManager.default.fileExists(atPath: alloc.dataDir + "/x"))
  }
}
