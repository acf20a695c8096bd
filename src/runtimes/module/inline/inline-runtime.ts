/**
 * Inline modules: the module runs in the master's event loop. Fastest start and calls, shared fate:
 * a module that blocks the loop or corrupts global state affects the master (the seeds accept this;
 * use `isolation: thread` or `type: process` when that is not acceptable).
 */
import { hsuError, serializeError } from '../../../errors.js';
import type { ExitInfo, Instance, LaunchContext, Runtime, RuntimeCapabilities, RuntimeDetails, StopRequest } from '../../../lifecycle/runtime.js';
import type { CallOptions } from '../../../worker/define.js';
import type { WorkerEndpoint } from '../../../worker/contract.js';
import { Termination } from '../../terminate.js';
import type { AttributionScope } from '../uncaught-attribution.js';
import type { ModuleServices } from '../module-services.js';
import { needsDeadline, withDeadline } from '../call-deadline.js';
import { instantiateModule } from '../module-loader.js';
import { ModuleDriver } from '../module-driver.js';
import { describeSource, resolveSource, type ModuleSource } from '../module-source.js';

export interface InlineRuntimeOptions {
  readonly workerId: string;
  readonly source: ModuleSource;
  readonly config: Record<string, unknown>;
  /** Bound for module.stop() when the module ends itself after a fatal error. */
  readonly stopTimeoutMs: number;
  /** Present when uncaught errors are charged to modules (the master's attribution hooks). */
  readonly attribution: AttributionScope | undefined;
  readonly services?: ModuleServices;
}

const CAPABILITIES: RuntimeCapabilities = { stoppable: true, callable: true };

export class InlineRuntime implements Runtime {
  /** The `config:` block the next launch initializes with (a reload may change it in place). */
  private moduleConfig: Readonly<Record<string, unknown>>;
  readonly kind = 'inline';
  readonly capabilities = CAPABILITIES;

  constructor(private readonly options: InlineRuntimeOptions) {
    this.moduleConfig = options.config;
  }

  reconfigure(moduleConfig: Readonly<Record<string, unknown>>): void {
    this.moduleConfig = moduleConfig;
  }

  describe(): RuntimeDetails {
    return { kind: 'inline', isolation: 'inline', module_source: describeSource(this.options.source) };
  }

  async launch(context: LaunchContext): Promise<Instance> {
    const { workerId } = this.options;
    const exported = await resolveSource(this.options.source, workerId);
    const module = await instantiateModule(exported, workerId, describeSource(this.options.source));
    // Given up on while the code loaded (stop, timeout): an abort listener added now would never fire.
    if (context.signal.aborted) throw abortReason(context.signal);
    const instance = new InlineInstance(workerId, this.options.stopTimeoutMs);
    const driver = new ModuleDriver(module, {
      workerId,
      config: this.moduleConfig,
      logger: context.logger,
      defaultEndpoint: { type: 'function', address: `inline:${workerId}` },
      onFatal: (error) => instance.crash(error),
      scoped: this.options.attribution !== undefined,
      ...(this.options.services === undefined ? {} : { services: this.options.services }),
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
  readonly released: Promise<void>;
  private resolveExit!: (info: ExitInfo) => void;
  private resolveReleased!: () => void;
  private driver!: ModuleDriver;
  private readonly termination: Termination;
  private ending: Promise<void> | undefined;
  /** Resolves when the termination gives up waiting for module.stop() (an inline module cannot be killed). */
  private abandon!: () => void;
  private readonly abandoned = new Promise<'abandoned'>((resolve) => (this.abandon = () => resolve('abandoned')));
  private crashed: Error | undefined;

  constructor(
    private readonly workerId: string,
    private readonly stopTimeoutMs: number,
  ) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
    this.released = new Promise((resolve) => (this.resolveReleased = resolve));
    this.termination = new Termination(
      {
        graceful: () => this.beginEnd(),
        // Forcing cannot kill in-process code: module.stop() still starts (its ctx.signal fires), we just stop waiting.
        force: () => {
          this.beginEnd();
          this.abandon();
        },
      },
      this.released,
    );
  }

  attach(driver: ModuleDriver): void {
    this.driver = driver;
  }

  stop(request: StopRequest): Promise<void> {
    this.termination.request(request);
    return this.released;
  }

  /**
   * The module failed (ctx.fail, a failed ctx.run task, an uncaught error of its own): that is a
   * state change now. Its calls are interrupted at once; module.stop() runs afterwards, bounded by
   * the stop timeout, and `released` waits for it.
   */
  crash(error: Error): void {
    if (this.crashed !== undefined) return;
    this.crashed = error;
    this.driver.interruptCalls();
    this.resolveExit({ requested: false, exitCode: null, signal: null, forced: false, at: Date.now(), error: serializeError(error) });
    this.termination.bound(this.stopTimeoutMs);
    this.beginEnd();
  }

  health(_signal: AbortSignal, timeoutMs?: number): Promise<boolean | 'timeout'> {
    return this.driver.health(timeoutMs);
  }

  call(action: string, input: unknown, options: CallOptions | undefined): Promise<unknown> {
    if (!needsDeadline(options)) return this.driver.call(action, input);
    return withDeadline(this.workerId, action, options, (signal) => this.driver.call(action, input, signal));
  }

  endpoint(): WorkerEndpoint {
    return this.driver.endpoint;
  }

  diagnostics(): Readonly<Record<string, unknown>> {
    return {
      module: this.driver.module.info,
      load_time: new Date(this.driver.loadedAt).toISOString(),
      actions: this.driver.actionNames,
      module_diagnostics: this.driver.moduleDiagnostics(),
    };
  }

  /** Runs module.stop() once; resolves the exit when it finished or the termination gave up on it. */
  private beginEnd(): void {
    this.ending ??= this.end();
  }

  private async end(): Promise<void> {
    let stopError: unknown;
    const outcome = await Promise.race([
      this.driver.stop().then(
        () => 'done' as const,
        (error: unknown) => {
          stopError = error;
          return 'done' as const;
        },
      ),
      this.abandoned,
    ]);
    const forced = outcome === 'abandoned';
    let error: Error | undefined = this.crashed;
    if (error === undefined && forced) error = this.abandonedError();
    if (error === undefined && stopError !== undefined) {
      error = hsuError('MODULE_FATAL', `worker '${this.workerId}': stop() failed: ${stopError instanceof Error ? stopError.message : String(stopError)}`, { worker_id: this.workerId }, stopError);
    }
    this.resolveExit({ requested: this.crashed === undefined, exitCode: null, signal: null, forced, at: Date.now(), ...(error === undefined ? {} : { error: serializeError(error) }) });
    this.resolveReleased();
  }

  private abandonedError(): Error {
    const context = { worker_id: this.workerId, grace_ms: this.termination.grace };
    if (this.termination.forced === 'request') {
      return hsuError('STOP_TIMEOUT', `worker '${this.workerId}': forced stop; module stop() was still running and was abandoned (an inline module cannot be killed)`, context);
    }
    return hsuError('STOP_TIMEOUT', `worker '${this.workerId}': module stop() did not finish within ${this.termination.grace} ms`, context);
  }
}
