/**
 * `type: process` with a `module:` block: hsu spawns its own host entry (host-entry.ts) as a
 * managed process (own process group, captured output, the stop signal then SIGKILL) and drives
 * the module inside it over IPC with the control protocol. Same module file as inline or thread.
 */
import { hsuError, serializeError } from '../../../errors.js';
import type { ExitInfo, Instance, LaunchContext, Runtime, RuntimeCapabilities, RuntimeDetails, StopRequest } from '../../../lifecycle/runtime.js';
import type { FromHost, ToHost } from '../../../protocol/messages.js';
import { childTransport } from '../../../protocol/transport.js';
import { ProcessRuntime, type ProcessRuntimeOptions } from '../../process/process-runtime.js';
import type { ProcessInstance } from '../../process/process-instance.js';
import { entryPath } from '../entry-path.js';
import { RemoteInstance } from '../remote-instance.js';
import { RemoteModule } from '../remote-module.js';
import type { ModuleServices } from '../module-services.js';
import { startEnded, type ResourceLimitsMb } from '../thread/thread-runtime.js';

const HOST_ENTRY = entryPath('host/host-entry');

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
  readonly groups?: ProcessRuntimeOptions['groups'];
  readonly cgroups?: ProcessRuntimeOptions['cgroups'];
  readonly limits?: ProcessRuntimeOptions['limits'];
  readonly launch?: ProcessRuntimeOptions['launch'];
  /** The worker's `logs:` block, resolved: the host's stdout and stderr rotate like an executable's. */
  readonly logs?: ProcessRuntimeOptions['logs'];
  /** Grace for the host after a fatal report or a failed start, before it is killed. */
  readonly stopTimeoutMs: number;
  readonly stopSignal: NodeJS.Signals;
  readonly services?: ModuleServices;
}

const CAPABILITIES: RuntimeCapabilities = { stoppable: true, callable: true };

export class HostRuntime implements Runtime {
  /** The `config:` block the next launch initializes with (a reload may change it in place). */
  private moduleConfig: Readonly<Record<string, unknown>>;
  readonly kind = 'host';
  readonly capabilities = CAPABILITIES;
  private readonly process: ProcessRuntime;

  constructor(private readonly options: HostRuntimeOptions) {
    this.moduleConfig = options.config;
    const limits = options.resourceLimits;
    const execArgv = [
      ...(limits?.max_old_generation_mb === undefined ? [] : [`--max-old-space-size=${limits.max_old_generation_mb}`]),
      ...(limits?.max_young_generation_mb === undefined ? [] : [`--max-semi-space-size=${Math.max(1, Math.round(limits.max_young_generation_mb / 3))}`]),
      ...(limits?.stack_size_mb === undefined ? [] : [`--stack-size=${Math.round(limits.stack_size_mb * 1024)}`]),
    ];
    this.process = new ProcessRuntime({
      workerId: options.workerId,
      // The master's own Node: a hosted module runs on exactly the runtime the master was tested with.
      executablePath: process.execPath,
      execArgv,
      args: [HOST_ENTRY],
      logDir: options.logDir,
      ipc: true,
      ...(options.environment === undefined ? {} : { environment: options.environment }),
      ...(options.workingDirectory === undefined ? {} : { workingDirectory: options.workingDirectory }),
      ...(options.onLine === undefined ? {} : { onLine: options.onLine }),
      ...(options.tracker === undefined ? {} : { tracker: options.tracker }),
      ...(options.groups === undefined ? {} : { groups: options.groups }),
      ...(options.cgroups === undefined ? {} : { cgroups: options.cgroups }),
      ...(options.limits === undefined ? {} : { limits: options.limits }),
      ...(options.launch === undefined ? {} : { launch: options.launch }),
      ...(options.logs === undefined ? {} : { logs: options.logs }),
    });
  }

  reconfigure(moduleConfig: Readonly<Record<string, unknown>>): void {
    this.moduleConfig = moduleConfig;
  }

  describe(): RuntimeDetails {
    const o = this.options;
    return { ...this.process.describe(), kind: 'host', isolation: 'process', module_path: o.modulePath, entry_point: o.entryPoint, resource_limits: o.resourceLimits ?? null };
  }

  async launch(context: LaunchContext): Promise<Instance> {
    const proc = await this.process.launch(context);
    const remote = new RemoteModule(this.options.workerId, childTransport<ToHost, FromHost>(proc.child), context.logger, this.options.services);
    const instance = new HostInstance(proc, remote, this.options);
    const onAbort = (): void => void proc.stop({ graceMs: 0, signal: 'SIGKILL', force: true, cause: 'requested' });
    context.signal.addEventListener('abort', onAbort, { once: true });
    try {
      remote.init(this.options.modulePath, this.options.entryPoint, this.moduleConfig);
      await Promise.race([remote.started, instance.exited.then((exit) => Promise.reject(startEnded(this.options.workerId, exit)))]);
      if (context.signal.aborted) throw context.signal.reason as Error;
      return instance;
    } catch (error) {
      await proc.stop({ graceMs: this.options.stopTimeoutMs, signal: this.options.stopSignal, force: false, cause: 'requested' });
      throw error;
    } finally {
      context.signal.removeEventListener('abort', onAbort);
    }
  }

  close(): Promise<void> {
    return this.process.close();
  }
}

class HostInstance extends RemoteInstance implements Instance {
  readonly exited: Promise<ExitInfo>;
  readonly released: Promise<void>;

  constructor(
    private readonly proc: ProcessInstance,
    remote: RemoteModule,
    options: HostRuntimeOptions,
  ) {
    super(remote);
    const workerId = options.workerId;
    const limited = options.resourceLimits !== undefined;
    this.released = proc.released;
    let crashed: ((exit: ExitInfo) => void) | undefined;
    const crash = new Promise<ExitInfo>((resolve) => (crashed = resolve));
    // A fatal report is the crash; the host is given the stop timeout to end itself, then killed.
    remote.onFatal = (error) => {
      crashed?.({ requested: false, exitCode: null, signal: null, forced: false, at: Date.now(), error });
      proc.expectEnd(options.stopTimeoutMs);
    };
    const ended = proc.exited.then((exit): ExitInfo => {
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
    this.exited = Promise.race([crash, ended]);
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  stop(request: StopRequest): Promise<void> {
    return this.stopAfterDrain(request, (r) => this.proc.stop(r));
  }

  diagnostics(): Readonly<Record<string, unknown>> {
    return { ...this.proc.diagnostics(), ...this.moduleFacts() };
  }
}
