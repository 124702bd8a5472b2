import MiloSupervisor
import Testing

@Suite struct TaskPathsTests {
  @Test func layout() {
    let paths = TaskPaths(stateDir: "/var/lib/milo", containerID: "milo-abc")
    #expect(paths.stateDir == "/var/lib/milo/tasks/milo-abc")
    #expect(paths.runtimeRoot == "/var/lib/milo/runtime")
    #expect(paths.bundle == "/var/lib/milo/tasks/milo-abc/bundle")
    #expect(paths.pidFile == "/var/lib/milo/tasks/milo-abc/container.pid")
    #expect(paths.exitRecord == "/var/lib/milo/tasks/milo-abc/exit")
    #expect(paths.supervisorLog == "/var/lib/milo/tasks/milo-abc/supervisor.log")
    #expect(paths.ownerFile == "/var/lib/milo/tasks/milo-abc/task-id")
    #expect(paths.runtimeState == "/var/lib/milo/runtime/milo-abc")
    #expect(paths.cgroup == "/milo/milo-abc")
    #expect(paths.execPidFile("t1") == "/var/lib/milo/tasks/milo-abc/exec-t1.pid")
    #expect(paths.execLog("t1") == "/var/lib/milo/tasks/milo-abc/exec-t1.log")
    #expect(paths.consoleSocket("t1") == "/var/lib/milo/tasks/milo-abc/console-t1.sock")
  }

  @Test func recordedLayoutIsTheSame() {
    let planned = TaskPaths(stateDir: "/s", containerID: "c")
    #expect(TaskPaths(taskStateDir: "/s/tasks/c", runtimeRoot: "/s/runtime", containerID: "c") == planned)
  }
}
