import Foundation
import MiloSys
import Synchronization
import Testing

/// `FileLock`: one holder at a time across open file descriptions (as across processes), and no
/// lock file left once released, even while another holder waits on the removed file.
@Suite struct FileLockTests {
  @Test func aSecondHolderWaitsForTheFirstAndNoFileIsLeft() async throws {
    let dir = TempDir("milo-filelock")
    let path = dir.path + "/c.lock"
    let first = try FileLock.acquire(path)
    #expect(FileManager.default.fileExists(atPath: path))
    let order = Mutex<[String]>([])
    Blocking.detach(name: "second-holder") {
      guard let second = try? FileLock.acquire(path) else { return }
      order.withLock { $0.append("second") }
      second.release()
    }
    try await Task.sleep(for: .milliseconds(200))
    #expect(order.withLock { $0 }.isEmpty, "the second acquire waits while the first holds the lock")
    order.withLock { $0.append("first released") }
    first.release()
    #expect(await eventually { order.withLock { $0 } == ["first released", "second"] })
    #expect(!FileManager.default.fileExists(atPath: path))
  }

  @Test func aMissingDirectoryIsAnError() {
    #expect(throws: SystemError.self) { try FileLock.acquire("/nonexistent-milo-dir/c.lock") }
  }
}
