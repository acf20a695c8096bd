/**
 * `isolation: thread`: the module runs in its own worker_threads isolate. It can be memory-limited
 * (V8 resource limits) and can crash alone: an uncaught error, an exit or an out-of-memory ends
 * the thread, the master restarts it by policy. What Go modules in the seeds could not have.
 */
import { Worker } from 'node:worker_threads';
import { deserializeError, hsuError, serializeError, type SerializedError } from '../../../errors.js';
import type { ExitInfo, Instance, LaunchContext, Runtime, RuntimeCapabilities, RuntimeDetails, StopRequest } from '../../../lifecycle/runtime.js';
import type { FromHost, ToHost } from '../../../protocol/messages.js';
import { portTransport } from '../../../protocol/transport.js';
import type { OutputCapture } from '../../output/index.js';
import { Termination } from '../../terminate.js';
import { entryPath } from '../entry-path.js';
import { RemoteInstance } from '../remote-instance.js';
import { RemoteModule } from '../remote-module.js';
import type { ModuleServices } from '../module-services.js';

const THREAD_ENTRY = entryPath('thread/thread-entry');
/** After the thread exits, how long its stdout/stderr may still take to drain. */
const STREAM_GRACE_MS = 100;

export interface ResourceLimitsMb {
  readonly max_old_generation_mb?: number;
  readonly max_young_generation_mb?: number;
  readonly stack_size_mb?: number;
}

export interface ThreadRuntimeOptions {
  readonly workerId: string;
  readonly modulePath: string;
  readonly entryPoint: string;
  readonly config: Record<string, unknown>;
  readonly resourceLimits?: ResourceLimitsMb;
  readonly output: OutputCapture;
  /** After a fatal report the thread must end by itself within this; otherwise it is terminated. */
  readonly stopTimeoutMs: number;
  readonly services?: ModuleServices;
}

const CAPABILITIES: RuntimeCapabilities = { stoppable: true, callable: true };

export class ThreadRuntime implements Runtime {
  /** The `config:` block the next launch initializes with (a reload may change it in place). */
  private moduleConfig: Readonly<Record<string, unknown>>;
  readonly kind = 'thread';
  readonly capabilities = CAPABILITIES;

  constructor(private readonly options: ThreadRuntimeOptions) {
    this.moduleConfig = options.config;
  }

  reconfigure(moduleConfig: Readonly<Record<string, unknown>>): void {
    this.moduleConfig = moduleConfig;
  }

  describe(): RuntimeDetails {
    const o = this.options;
    return { kind: 'thread', isolation: 'thread', module_path: o.modulePath, entry_point: o.entryPoint, resource_limits: o.resourceLimits ?? null, output: o.output.stats() };
  }

  close(): Promise<void> {
    return this.options.output.close();
  }

  async launch(context: LaunchContext): Promise<Instance> {
    const { workerId, resourceLimits } = this.options;
    const worker = new Worker(THREAD_ENTRY, {
      name: `hsu:${workerId}`,
      stdout: true,
      stderr: true,
      resourceLimits: {
        ...(resourceLimits?.max_old_generation_mb === undefined ? {} : { maxOldGenerationSizeMb: resourceLimits.max_old_generation_mb }),
        ...(resourceLimits?.max_young_generation_mb === undefined ? {} : { maxYoungGenerationSizeMb: resourceLimits.max_young_generation_mb }),
        ...(resourceLimits?.stack_size_mb === undefined ? {} : { stackSizeMb: resourceLimits.stack_size_mb }),
      },
    });
    this.options.output.open(context.logger);
    const remote = new RemoteModule(workerId, portTransport<ToHost, FromHost>(worker), context.logger, this.options.services);
    const instance = new ThreadInstance(workerId, worker, remote, this.options, context);
    const onAbort = (): void => void worker.terminate();
    context.signal.addEventListener('abort', onAbort, { once: true });
    try {
      remote.init(this.options.modulePath, this.options.entryPoint, this.moduleConfig);
      await Promise.race([remote.started, instance.exited.then((exit) => Promise.reject(startEnded(workerId, exit)))]);
      if (context.signal.aborted) throw context.signal.reason as Error;
      return instance;
    } catch (error) {
      await worker.terminate();
      await instance.released;
      throw error;
    } finally {
      context.signal.removeEventListener('abort', onAbort);
    }
  }
}

/** Why a thread or host ended during its start, as the error the start fails with. */
export function startEnded(workerId: string, exit: ExitInfo): Error {
  if (exit.error !== undefined) return deserializeError(exit.error);
  return hsuError('START_FAILED', `worker '${workerId}' ended during its start (${exit.signal ?? `code ${exit.exitCode}`})`, { worker_id: workerId });
}

class ThreadInstance extends RemoteInstance implements Instance {
  readonly pid = undefined;
  readonly exited: Promise<ExitInfo>;
  readonly released: Promise<void>;
  private resolveExit!: (exit: ExitInfo) => void;
  private readonly termination: Termination;
  private threadError: SerializedError | undefined;

  constructor(
    private readonly workerId: string,
    private readonly worker: Worker,
    remote: RemoteModule,
    options: ThreadRuntimeOptions,
    context: LaunchContext,
  ) {
    super(remote);
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
    const captures = [options.output.attach(worker.stdout, 'stdout', undefined, context.logger), options.output.attach(worker.stderr, 'stderr', undefined, context.logger)];
    const streams = Promise.all(captures.map((c) => c.done));
    worker.on('error', (error: Error & { code?: string }) => {
      this.threadError =
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? serializeError(hsuError('MODULE_OUT_OF_MEMORY', `worker '${workerId}': thread exceeded its memory limit (resource_limits)`, { worker_id: workerId }, error))
          : serializeError(hsuError('MODULE_UNCAUGHT', `worker '${workerId}': thread error: ${error.message}`, { worker_id: workerId }, error));
    });
    const threadGone = new Promise<number>((resolve) => worker.once('exit', resolve));
    this.released = threadGone.then(async () => {
      await settleWithin(streams, STREAM_GRACE_MS);
      for (const capture of captures) capture.finish();
    });
    this.termination = new Termination({ graceful: () => remote.stop(), force: () => void worker.terminate() }, this.released);
    // A fatal report is the crash; the thread is given the stop timeout to end itself.
    remote.onFatal = (error) => {
      this.resolveExit({ requested: false, exitCode: null, signal: null, forced: false, at: Date.now(), error });
      this.termination.bound(options.stopTimeoutMs);
    };
    void threadGone.then(async (exitCode) => {
      remote.close(`thread exited with code ${exitCode}`);
      await this.released;
      this.resolveExit(this.exitInfo(exitCode));
    });
  }

  stop(request: StopRequest): Promise<void> {
    return this.stopAfterDrain(request, (r) => {
      this.termination.request(r);
      return this.released;
    });
  }

  diagnostics(): Readonly<Record<string, unknown>> {
    return {
      thread_id: this.worker.threadId,
      ...this.moduleFacts(),
      event_loop_utilization: this.worker.threadId >= 0 ? this.worker.performance.eventLoopUtilization().utilization : null,
    };
  }

  private exitInfo(exitCode: number): ExitInfo {
    const remote = this.remote;
    const requested = this.termination.requested && remote.fatal === undefined;
    const error =
      remote.fatal ??
      this.threadError ??
      remote.stoppedReport?.error ??
      (requested || exitCode === 0 ? undefined : serializeError(hsuError('WORKER_CRASHED', `worker '${this.workerId}': thread exited with code ${exitCode}`, { worker_id: this.workerId, exit_code: exitCode })));
    return { requested, exitCode, signal: null, forced: this.termination.forced !== undefined, at: Date.now(), ...(error === undefined ? {} : { error }) };
  }
}

async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
