import Logging
import Milo
import MiloSupervisor
import MiloSys
import NomadPlugin

#if canImport(Glibc)
  import Glibc
#endif

// One binary, three roles: the Nomad plugin (default), a task's supervisor (`milo supervise`)
// and the first process inside a task's container (`milo init`).
let arguments = CommandLine.arguments
if arguments.count > 1 && arguments[1] == "init" {
  exit(ContainerInit.run(arguments: Array(arguments.dropFirst(2))))
}
if arguments.count > 1 && arguments[1] == "supervise" {
  exit(SupervisorMain.run(arguments: Array(arguments.dropFirst(2))))
}

let level = Logger.Level(rawValue: Environment.value("MILO_LOG_LEVEL") ?? "info") ?? .info
LoggingSystem.bootstrap { label in HCLogHandler(module: label, level: level) }
let logger = Logger(label: "milo")
let driver = MiloDriver(logger: logger, executable: SelfExecutable.path())
exit(await PluginServer.run(driver: driver, logger: logger))
