/**
 * Maps a validated worker config to the runtime that runs it. This is the only place that knows
 * the deployment matrix: type process + execution, type process + module (host), type module
 * with isolation inline or thread.
 */
import { hsuError } from '../errors.js';
import type { WorkerConfig } from '../config/index.js';
import { InlineRuntime } from '../runtimes/inline-runtime.js';
import { HostRuntime } from '../runtimes/host-runtime.js';
import { OutputCapture } from '../runtimes/output-capture.js';
import { ProcessRuntime, type ProcessTracker } from '../runtimes/process-runtime.js';
import { ThreadRuntime } from '../runtimes/thread-runtime.js';
import type { ModuleSource } from '../runtimes/module-source.js';
import type { Runtime } from '../runtimes/types.js';
import type { ModuleExport } from '../worker/contract.js';

export interface RuntimeFactoryContext {
  readonly logDir: string;
  readonly natives: ReadonlyMap<string, ModuleExport>;
  readonly attributeUncaughtErrors: boolean;
  readonly tracker: ProcessTracker | undefined;
  readonly onLine: (workerId: string, stream: 'stdout' | 'stderr', line: string, pid: number | undefined) => void;
}

export function createRuntime(config: WorkerConfig, ctx: RuntimeFactoryContext): Runtime {
  const onLine = (stream: 'stdout' | 'stderr', line: string, pid: number | undefined): void => ctx.onLine(config.id, stream, line, pid);
  if (config.type === 'process') {
    if (config.execution !== undefined) {
      const execution = config.execution;
      return new ProcessRuntime({
        workerId: config.id,
        executablePath: execution.executable_path,
        args: execution.args,
        environment: execution.environment,
        inheritEnvironment: execution.inherit_environment,
        workingDirectory: execution.working_directory ?? process.cwd(),
        logDir: ctx.logDir,
        onLine,
        ...(ctx.tracker === undefined ? {} : { tracker: ctx.tracker }),
      });
    }
    if (config.module === undefined) throw hsuError('CONFIG_INVALID', `worker '${config.id}': a process worker needs an execution or a module block`, { worker_id: config.id });
    const block = config.module;
    return new HostRuntime({
      workerId: config.id,
      modulePath: block.module_path,
      entryPoint: block.entry_point,
      config: block.config,
      logDir: ctx.logDir,
      onLine,
      stopTimeoutMs: config.stop_timeout,
      ...(ctx.tracker === undefined ? {} : { tracker: ctx.tracker }),
      ...(block.resource_limits === undefined ? {} : { resourceLimits: block.resource_limits }),
    });
  }
  const block = config.module;
  if (block.isolation === 'thread') {
    if (block.module_type !== 'plugin') {
      throw hsuError('MODULE_UNSUPPORTED_ISOLATION', `worker '${config.id}': a native factory cannot run in a thread; use module_type: plugin`, { worker_id: config.id });
    }
    return new ThreadRuntime({
      workerId: config.id,
      modulePath: block.module_path,
      entryPoint: block.entry_point,
      config: block.config,
      output: new OutputCapture({ workerId: config.id, logDir: ctx.logDir, onLine }),
      stopTimeoutMs: config.stop_timeout,
      ...(block.resource_limits === undefined ? {} : { resourceLimits: block.resource_limits }),
    });
  }
  const source: ModuleSource =
    block.module_type === 'native'
      ? { kind: 'native', name: block.module_name, lookup: (name) => ctx.natives.get(name), available: () => [...ctx.natives.keys()] }
      : { kind: 'plugin', path: block.module_path, entryPoint: block.entry_point };
  return new InlineRuntime({
    workerId: config.id,
    source,
    config: block.config,
    stopTimeoutMs: config.stop_timeout,
    attributeUncaughtErrors: ctx.attributeUncaughtErrors,
  });
}
