import MiloSupervisor
import MiloSys

#if canImport(Glibc)
  import Glibc
#endif

// The small helper that milo runs beside each JVM: the task's supervisor (`milo-task
// supervise`) and the first process inside its container (`milo-task init`). It links only the
// Swift standard library, MiloSupervisor and the C shims, so each of the two processes per task
// maps a few hundred KiB of code instead of the plugin's gRPC, NIO, Foundation and protobuf.
let arguments = CommandLine.arguments
switch arguments.count > 1 ? arguments[1] : "" {
case "init":
  exit(ContainerInit.run(arguments: Array(arguments.dropFirst(2))))
case "supervise":
  exit(SupervisorMain.run(arguments: Array(arguments.dropFirst(2))))
case "protocol":
  Posix.writeAll(1, Array((SupervisorMain.protocolVersion + "\n").utf8))
  exit(0)
default:
  let usage = """
    milo-task is milo's per-task helper, started by the milo Nomad plugin, not by hand.
    Usage: milo-task supervise <options> | milo-task init <program> [args...]

    """
  Posix.writeAll(2, Array(usage.utf8))
  exit(2)
}
