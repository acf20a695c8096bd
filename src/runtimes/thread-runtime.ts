/**
 * `isolation: thread`: the module runs in its own worker_threads isolate. It can be memory-limited
 * (V8 resource limits) and can crash alone: an uncaught error, an exit or an out-of-memory ends
 * the thread, the master restarts it by policy. What Go modules in the seeds could not have.
 */
import { Worker } from 'node:worker_threads';
import { hsuError, serializeError, type SerializedError } from '../errors.js';
import type { CallOptions } from '../worker/define.js';
import type { WorkerEndpoint } from '../worker/contract.js';
import type { OutputCapture } from './output-capture.js';
import type { FromHost } from './protocol.js';
import { entryPath } from './entry-path.js';
import { endFailingInstance } from './failing-instance.js';
import { RemoteModule } from './remote-module.js';
import type { ExitInfo, Instance, LaunchContext, Runtime, StopRequest } from './types.js';

const THREAD_ENTRY = entryPath('thread-entry');

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
}

export class ThreadRuntime implements Runtime {
  readonly kind = 'thread' as const;

  constructor(private readonly options: ThreadRuntimeOptions) {}

  describe(): Record<string, unknown> {
    return { isolation: 'thread', module_path: this.options.modulePath, entry_point: this.options.entryPoint, resource_limits: this.options.resourceLimits ?? null };
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
    const instance = new ThreadInstance(workerId, worker, new RemoteModule(workerId, (m) => worker.postMessage(m), context.logger), this.options.output, context);
    instance.remote.onFatal = () => endFailingInstance(instance, this.options.stopTimeoutMs);
    const onAbort = (): void => void worker.terminate();
    context.signal.addEventListener('abort', onAbort, { once: true });
    try {
      instance.remote.init(this.options.modulePath, this.options.entryPoint, this.options.config);
      await instance.remote.started;
      return instance;
    } catch (error) {
      await worker.terminate();
      await instance.exited;
      throw error;
    } finally {
      context.signal.removeEventListener('abort', onAbort);
    }
  }
}

class ThreadInstance implements Instance {
  readonly pid = undefined;
  readonly exited: Promise<ExitInfo>;
  private stopRequested = false;
  private forced = false;
  private threadError: SerializedError | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    workerId: string,
    private readonly worker: Worker,
    readonly remote: RemoteModule,
    output: OutputCapture,
    context: LaunchContext,
  ) {
    worker.on('message', (message: FromHost) => remote.handle(message));
    const captures = [output.attach(worker.stdout, 'stdout', undefined, context.logger), output.attach(worker.stderr, 'stderr', undefined, context.logger)];
    const streams = Promise.all(captures.map((c) => c.done));
    worker.on('error', (error: Error & { code?: string }) => {
      this.threadError =
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? serializeError(hsuError('MODULE_OUT_OF_MEMORY', `worker '${workerId}': thread exceeded its memory limit (resource_limits)`, { worker_id: workerId }, error))
          : serializeError(hsuError('MODULE_UNCAUGHT', `worker '${workerId}': thread error: ${error.message}`, { worker_id: workerId }, error));
    });
    this.exited = new Promise<number>((resolve) => worker.once('exit', resolve)).then(async (exitCode) => {
      remote.close(`thread exited with code ${exitCode}`);
      await Promise.race([streams, new Promise((r) => setTimeout(r, 100))]);
      for (const capture of captures) capture.finish();
      const error = remote.fatal ?? this.threadError ?? remote.stoppedReport?.error ?? (this.stopRequested || exitCode === 0 ? undefined : serializeError(hsuError('WORKER_CRASHED', `worker '${workerId}': thread exited with code ${exitCode}`, { worker_id: workerId, exit_code: exitCode })));
      return { requested: this.stopRequested && remote.fatal === undefined, exitCode, signal: null, forced: this.forced, at: Date.now(), ...(error === undefined ? {} : { error }) };
    });
  }

  stop(request: StopRequest): Promise<void> {
    this.stopRequested = true;
    if (request.force) {
      this.forced = true;
      void this.worker.terminate();
    }
    this.stopping ??= this.gracefulStop(request.timeoutMs);
    return this.stopping;
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
      thread_id: this.worker.threadId,
      module: facts?.info ?? null,
      load_time: facts === undefined ? null : new Date(facts.loadedAt).toISOString(),
      actions: facts?.actions ?? [],
      event_loop_utilization: this.worker.performance.eventLoopUtilization().utilization,
    };
  }

  private async gracefulStop(timeoutMs: number): Promise<void> {
    this.remote.stop();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const outcome = await Promise.race([this.exited.then(() => 'exited' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.forced = true;
      await this.worker.terminate();
    }
    await this.exited;
  }
}
