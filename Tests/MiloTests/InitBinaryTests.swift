import Foundation
import MiloSupervisor
import NomadPlugin
import Testing

@testable import Milo

@Suite struct InitBinaryTests {
  @Test func librariesOutsideTheBoundTreesAreFound() {
    let maps = """
      55d0c0a00000-55d0c0a21000 r--p 00000000 08:01 1234 /opt/milo/milo
      7f0000000000-7f0000100000 r-xp 00000000 08:01 22 /opt/swift/usr/lib/swift/linux/libswiftCore.so
      7f0000200000-7f0000300000 r--p 00000000 08:01 23 /opt/swift/usr/lib/swift/linux/libFoundation.so
      7f0000400000-7f0000500000 r-xp 00000000 08:01 24 /usr/lib/x86_64-linux-gnu/libc.so.6
      7f0000600000-7f0000700000 r-xp 00000000 08:01 25 /lib/x86_64-linux-gnu/libm.so.6
      7f0000800000-7f0000900000 rw-p 00000000 00:00 0 [heap]
      7f0000a00000-7f0000b00000 r-xp 00000000 08:01 26 /home/dev/lib/libextra.so.1 (deleted)
      7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]
      """
    #expect(InitBinary.foreignLibraryDirs(maps: maps) == ["/opt/swift/usr/lib/swift/linux"])
    #expect(InitBinary.foreignLibraryDirs(maps: "") == [])
  }

  @Test func thisTestBinaryIsUsable() throws {
    let binary = try #require(InitBinary.current(executable: "/bin/sh"))
    #expect(binary.hostPath == "/bin/sh")
    #expect(InitBinary.current(executable: "/nonexistent/milo") == nil)
    #expect(InitBinary.current(executable: "/etc") == nil)
  }

  @Test func aBinaryOnlyRootCanRunIsNotUsed() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("initbin-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/milo"
    FileManager.default.createFile(atPath: path, contents: Data([0x7f]), attributes: [.posixPermissions: 0o700])
    #expect(InitBinary.current(executable: path) == nil)
    #expect(InitBinary.problem(with: path) == "\(path) is not executable by other users; make it mode 0755")
    #expect(InitBinary.problem(with: "/etc") == "/etc is not a regular file")
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    #expect(InitBinary.problem(with: path) == nil)
    #expect(InitBinary.current(executable: path)?.hostPath == path)
  }
}

@Suite(.enabled(if: geteuid() == 0, "mounts a tmpfs")) struct InitBinaryNoexecTests {
  @Test func aBinaryOnANoexecMountIsNotUsed() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("noexec-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try #require(mount("tmpfs", dir, "tmpfs", UInt(MS_NOEXEC), "size=1m") == 0, "mount: \(errno)")
    defer { umount2(dir, Int32(MNT_DETACH)) }
    let path = dir + "/milo"
    FileManager.default.createFile(atPath: path, contents: Data([0x7f]), attributes: [.posixPermissions: 0o755])
    #expect(InitBinary.current(executable: path) == nil)
    #expect(
      InitBinary.problem(with: path)
        == "\(path) is on a filesystem mounted noexec; install it on one that allows execution")
  }
}
