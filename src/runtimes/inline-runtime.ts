/**
 * Inline modules: the module runs in the master's event loop. Fastest start and calls, shared fate:
 * a module that blocks the loop or corrupts global state affects the master (the seeds accept this;
 * use `isolation: thread` or `type: process` when that is not acceptable).
 */
import { hsuError, serializeError } from '../errors.js';
import type { CallOptions } from '../worker/define.js';
import type { WorkerEndpoint } from '../worker/contract.js';
import { needsDeadline, withDeadline } from './call-deadline.js';
import { instantiateModule } from './module-loader.js';
import { ModuleDriver } from './module-driver.js';
import { describeSource, resolveSource, type ModuleSource } from './module-source.js';
import type { ExitInfo, Instance, LaunchContext, Runtime, StopRequest } from './types.js';
import { installUncaughtAttribution } from './uncaught-attribution.js';

export interface InlineRuntimeOptions {
  readonly workerId: string;
  readonly source: ModuleSource;
  readonly config: Record<string, unknown>;
  /** Bound for module.stop() when the module ends itself after a fatal error. */
  readonly stopTimeoutMs: number;
  readonly attributeUncaughtErrors: boolean;
}

export class InlineRuntime implements Runtime {
  readonly kind = 'inline' as const;

  constructor(private readonly options: InlineRuntimeOptions) {}

  describe(): Record<string, unknown> {
    return { isolation: 'inline', module_source: describeSource(this.options.source) };
  }

  async launch(context: LaunchContext): Promise<Instance> {
    const { workerId } = this.options;
    if (this.options.attributeUncaughtErrors) installUncaughtAttribution();
    const exported = await resolveSource(this.options.source, workerId);
    const module = await instantiateModule(exported, workerId, describeSource(this.options.source));
    // Given up on while the code loaded (stop, timeout): an abort listener added now would never fire.
    if (context.signal.aborted) throw abortReason(context.signal);
    const instance = new InlineInstance(workerId, this.options.stopTimeoutMs);
    const driver = new ModuleDriver(module, {
      workerId,
      config: this.options.config,
      logger: context.logger,
      defaultEndpoint: { type: 'function', address: `inline:${workerId}` },
      onFatal: (error) => instance.endAfterFatal(error),
      scoped: this.options.attributeUncaughtErrors,
    });
    instance.attach(driver);
    const abandon = (): void => {
      // The start cannot be cancelled in-process; stop the module as soon as we are told to give up.
      void driver.stop().catch(() => undefined);
    };
    context.signal.addEventListener('abort', abandon, { once: true });
    try {
      await driver.start();
    } catch (error) {
      await driver.stop().catch(() => undefined);
      throw error;
    } finally {
      context.signal.removeEventListener('abort', abandon);
    }
    if (context.signal.aborted) throw abortReason(context.signal);
    return instance;
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : hsuError('START_TIMEOUT');
}

class InlineInstance implements Instance {
  readonly pid = undefined;
  readonly exited: Promise<ExitInfo>;
  private resolveExit!: (info: ExitInfo) => void;
  private driver!: ModuleDriver;
  private ending: Promise<void> | undefined;
  /** Ends the grace period of the stop in progress at once. */
  private cutGrace: (() => void) | undefined;

  constructor(
    private readonly workerId: string,
    private readonly stopTimeoutMs: number,
  ) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  attach(driver: ModuleDriver): void {
    this.driver = driver;
  }

  stop(request: StopRequest): Promise<void> {
    this.ending ??= this.end(true, request.force ? 0 : request.timeoutMs, undefined);
    // A forced stop also escalates one already under way (e.g. the shutdown deadline passed).
    if (request.force) this.cutGrace?.();
    return this.ending;
  }

  endAfterFatal(error: Error): void {
    this.ending ??= this.end(false, this.stopTimeoutMs, error);
  }

  health(): Promise<boolean> {
    return this.driver.health();
  }

  call(action: string, input: unknown, options: CallOptions | undefined): Promise<unknown> {
    if (!needsDeadline(options)) return this.driver.call(action, input);
    return withDeadline(this.workerId, action, options, (signal) => this.driver.call(action, input, signal));
  }

  endpoint(): WorkerEndpoint {
    return this.driver.endpoint;
  }

  diagnostics(): Record<string, unknown> {
    return {
      isolation: 'inline',
      module: this.driver.module.info,
      load_time: new Date(this.driver.loadedAt).toISOString(),
      actions: this.driver.actionNames,
    };
  }

  /** Runs module.stop() within the grace period; an inline module cannot be killed, so a hang is reported as forced. */
  private async end(requested: boolean, graceMs: number, fatal: Error | undefined): Promise<void> {
    let forced = false;
    let stopError: unknown;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs);
      this.cutGrace = () => resolve('timeout');
    });
    try {
      const outcome = await Promise.race([this.driver.stop().then(() => 'done' as const), timedOut]);
      forced = outcome === 'timeout';
    } catch (error) {
      stopError = error;
    } finally {
      clearTimeout(timer);
    }
    let error = fatal;
    if (error === undefined && forced) {
      error = hsuError('STOP_TIMEOUT', `worker '${this.workerId}': module stop() did not finish within ${graceMs} ms`, { worker_id: this.workerId });
    }
    if (error === undefined && stopError !== undefined) {
      error = hsuError('MODULE_FATAL', `worker '${this.workerId}': stop() failed: ${stopError instanceof Error ? stopError.message : String(stopError)}`, { worker_id: this.workerId }, stopError);
    }
    const info: ExitInfo = { requested, exitCode: null, signal: null, forced, at: Date.now(), ...(error === undefined ? {} : { error: serializeError(error) }) };
    this.resolveExit(info);
  }
}
