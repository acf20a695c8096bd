/**
 * `type: process` with a `module:` block: hsu spawns its own host entry (host-entry.ts) as a
 * managed process (own process group, captured output, SIGTERM then SIGKILL) and drives the module
 * inside it over IPC with the control protocol. Same module file as inline or thread.
 */
import type { ChildProcess } from 'node:child_process';
import { hsuError, serializeError } from '../errors.js';
import type { CallOptions } from '../worker/define.js';
import type { WorkerEndpoint } from '../worker/contract.js';
import { ProcessRuntime, type ProcessRuntimeOptions } from './process-runtime.js';
import type { FromHost } from './protocol.js';
import { entryPath } from './entry-path.js';
import { RemoteModule } from './remote-module.js';
import { endFailingInstance } from './failing-instance.js';
import type { ResourceLimitsMb } from './thread-runtime.js';
import type { ExitInfo, Instance, LaunchContext, Runtime, StopRequest } from './types.js';

const HOST_ENTRY = entryPath('host-entry');

export interface HostRuntimeOptions {
  readonly workerId: string;
  readonly modulePath: string;
  readonly entryPoint: string;
  readonly config: Record<string, unknown>;
  readonly resourceLimits?: ResourceLimitsMb;
  readonly logDir: string;
  readonly workingDirectory?: string;
  readonly environment?: Readonly<Record<string, string>>;
  readonly onLine?: ProcessRuntimeOptions['onLine'];
  readonly tracker?: ProcessRuntimeOptions['tracker'];
  /** After a fatal report the host must end by itself within this; otherwise it is killed. */
  readonly stopTimeoutMs: number;
}

export class HostRuntime implements Runtime {
  readonly kind = 'host' as const;
  private readonly process: ProcessRuntime;

  constructor(private readonly options: HostRuntimeOptions) {
    const limits = options.resourceLimits;
    const execArgv = [
      ...(limits?.max_old_generation_mb === undefined ? [] : [`--max-old-space-size=${limits.max_old_generation_mb}`]),
      ...(limits?.max_young_generation_mb === undefined ? [] : [`--max-semi-space-size=${Math.max(1, Math.round(limits.max_young_generation_mb / 3))}`]),
      ...(limits?.stack_size_mb === undefined ? [] : [`--stack-size=${Math.round(limits.stack_size_mb * 1024)}`]),
    ];
    this.process = new ProcessRuntime({
      workerId: options.workerId,
      executablePath: process.execPath,
      execArgv,
      args: [HOST_ENTRY],
      logDir: options.logDir,
      ipc: true,
      ...(options.environment === undefined ? {} : { environment: options.environment }),
      ...(options.workingDirectory === undefined ? {} : { workingDirectory: options.workingDirectory }),
      ...(options.onLine === undefined ? {} : { onLine: options.onLine }),
      ...(options.tracker === undefined ? {} : { tracker: options.tracker }),
    });
  }

  describe(): Record<string, unknown> {
    return { isolation: 'process', module_path: this.options.modulePath, entry_point: this.options.entryPoint, resource_limits: this.options.resourceLimits ?? null, executable_path: process.execPath, executable_exists: true };
  }

  async launch(context: LaunchContext): Promise<Instance> {
    const proc = await this.process.launch(context);
    const child = (proc as Instance & { child: ChildProcess }).child;
    const remote = new RemoteModule(this.options.workerId, (m) => void child.send(m), context.logger);
    child.on('message', (message: FromHost) => remote.handle(message));
    const instance = new HostInstance(proc, remote, this.options.workerId, this.options.resourceLimits !== undefined);
    remote.onFatal = () => endFailingInstance(instance, this.options.stopTimeoutMs);
    const onAbort = (): void => void proc.stop({ timeoutMs: 0, signal: 'SIGKILL', force: true });
    context.signal.addEventListener('abort', onAbort, { once: true });
    try {
      remote.init(this.options.modulePath, this.options.entryPoint, this.options.config);
      await Promise.race([remote.started, instance.exited.then((exit) => Promise.reject(new Error(exit.error?.message ?? 'host exited during start')))]);
      return instance;
    } catch (error) {
      await proc.stop({ timeoutMs: 1000, signal: 'SIGTERM', force: false });
      throw error;
    } finally {
      context.signal.removeEventListener('abort', onAbort);
    }
  }

  close(): Promise<void> {
    return this.process.close();
  }
}

class HostInstance implements Instance {
  readonly exited: Promise<ExitInfo>;

  constructor(
    private readonly proc: Instance,
    readonly remote: RemoteModule,
    workerId: string,
    limited: boolean,
  ) {
    this.exited = proc.exited.then((exit) => {
      remote.close(exit.signal !== null ? `host killed by ${exit.signal}` : `host exited with code ${exit.exitCode}`);
      const fatal = remote.fatal;
      if (fatal !== undefined) return { ...exit, requested: false, error: fatal };
      if (!exit.requested && limited && (exit.signal === 'SIGABRT' || exit.exitCode === 134)) {
        const oom = hsuError('MODULE_OUT_OF_MEMORY', `worker '${workerId}': host process aborted; with resource_limits set this is V8 running out of heap`, { worker_id: workerId });
        return { ...exit, error: serializeError(oom) };
      }
      const stopError = remote.stoppedReport?.error;
      return stopError === undefined ? exit : { ...exit, error: stopError };
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  stop(request: StopRequest): Promise<void> {
    return this.proc.stop(request);
  }

  health(): Promise<boolean> {
    return this.remote.health();
  }

  call(action: string, input: unknown, options: CallOptions | undefined): Promise<unknown> {
    return this.remote.call(action, input, options);
  }

  endpoint(): WorkerEndpoint | undefined {
    return this.remote.endpoint;
  }

  diagnostics(): Record<string, unknown> {
    const facts = this.remote.startedFacts;
    return {
      ...this.proc.diagnostics(),
      module: facts?.info ?? null,
      load_time: facts === undefined ? null : new Date(facts.loadedAt).toISOString(),
      actions: facts?.actions ?? [],
    };
  }
}
