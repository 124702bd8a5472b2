import Foundation
import Logging
import NomadPlugin
import NomadProto

extension TaskRunner {
  // MARK: - Prestart hooks

  func prestart() async throws {
    // task_dir
    if !taskDirDone {
      appendEvent(.setup("Building Task Directory"))
      do {
        try context.allocDir.buildTaskDir(
          context.task.name, isolation: isolation, chroot: client.effectiveChrootEnv, mountTmpfs: client.mountTmpfs,
          bindMount: client.bindMountAllocDir)
      } catch {
        appendEvent(.hookFailed("task_dir: \(error)"))
        throw TaskStartError("prestart hook \"task_dir\" failed: \(error)", recoverable: false)
      }
      taskDirDone = true
    }
    // logmon
    if let logMon {
      do {
        try await logMon.start()
      } catch {
        appendEvent(.hookFailed("logmon: \(error)"))
        throw TaskStartError("prestart hook \"logmon\" failed: \(error)", recoverable: true)
      }
    }
    // artifacts
    if !artifactsDone && !context.task.artifacts.isEmpty {
      appendEvent(.downloadingArtifacts())
      for artifact in context.task.artifacts {
        do {
          try ArtifactFetcher.fetch(artifact, taskDir: context.allocDir.taskDir(context.task.name).dir)
        } catch {
          appendEvent(.artifactDownloadFailed("\(error)"))
          throw TaskStartError("prestart hook \"artifacts\" failed: \(error)", recoverable: true)
        }
      }
      artifactsDone = true
    }
  }

  /// The FIFO paths logmon reads (or /dev/null when logs are disabled).
  var outputPaths: (stdout: String, stderr: String) {
    guard let logMon else { return ("/dev/null", "/dev/null") }
    return (logMon.config.stdoutFifo, logMon.config.stderrFifo)
  }

  /// The environment and TaskConfig for a start.
  public func buildTaskConfig() throws -> (TaskConfigProto, HCLVariables) {
    let environment = TaskEnvironment.build(effectiveContext, client: client)
    let paths = outputPaths
    let inputs = TaskConfigBuilder.Inputs(
      context: effectiveContext, environment: environment.env, stdoutPath: paths.stdout, stderrPath: paths.stderr,
      networkIsolation: networkIsolation, msgpackDriverConfig: [])
    return (TaskConfigBuilder.build(inputs, client: client), environment.variables)
  }

  /// `runDriver`.
  func runDriver() async throws {
    var (taskConfig, variables) = try buildTaskConfig()
    do {
      taskConfig.msgpackDriverConfig = Data(
        try ConfigEncoder.encodeTaskConfig(context.task.config, spec: taskSchema, variables: variables))
    } catch {
      appendEvent(.failedValidation(error.description))
      throw TaskStartError(error.description, recoverable: false)
    }
    guard var driver else { throw TaskStartError("no driver", recoverable: false) }
    let response: StartTaskResponseProto
    do {
      response = try await driver.startTask(taskConfig)
    } catch let error as PluginCallError where error == .pluginShutdown {
      logger.info("failed to start task because plugin shutdown unexpectedly; attempting to recover")
      do {
        try await initDriver()
        guard let fresh = self.driver else { throw PluginCallError.pluginShutdown }
        driver = fresh
      } catch {
        let text = "failed to initialize driver after it exited unexpectedly: \(error)"
        appendEvent(.driverFailure(text))
        throw TaskStartError(text, recoverable: false)
      }
      do {
        response = try await driver.startTask(taskConfig)
      } catch {
        let text = "failed to start task after driver exited unexpectedly: \(error)"
        appendEvent(.driverFailure(text))
        throw TaskStartError(text, recoverable: false)
      }
    } catch {
      let mapped = PluginCallError.from(error)
      appendEvent(.driverFailure(mapped.description))
      throw TaskStartError(mapped.description, recoverable: mapped.isRecoverable)
    }
    handle = response.hasHandle ? response.handle : TaskHandleProto()
    driverHandleID = taskConfig.id
    persist()
    updateState(.running, event: .started())
  }
}
