/**
 * Runs one WorkerModule instance: context, initialize/start/stop, fatal reports, health and action
 * calls. The same driver runs inline in the master, inside a worker thread and inside a child host,
 * which is what makes the three deployments behave alike.
 */
import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import { hsuError, isHsuError } from '../../errors.js';
import { callContextHook, type CallContextHook } from '../../observability/call-context.js';
import type { ActionMap, CallContext, ModuleContext, ModuleLogger, WorkerEndpoint, WorkerModule } from '../../worker/contract.js';
import { InstanceBus, NO_SERVICES, type ModuleServices } from './module-services.js';

/** The driver whose code is running; lets an uncaught error be attributed to its module. */
export const moduleScope = new AsyncLocalStorage<ModuleDriver>();

export interface ModuleDriverOptions {
  readonly workerId: string;
  readonly config: Record<string, unknown>;
  readonly logger: ModuleLogger;
  readonly defaultEndpoint: WorkerEndpoint;
  /** Called at most once, for a fatal error reported after start (ctx.fail, a failed ctx.run task, an uncaught error). */
  readonly onFatal: (error: Error) => void;
  readonly onEndpoint?: (endpoint: WorkerEndpoint) => void;
  /** Calls and the bus, as the master offers them (NO_SERVICES in a host without one). */
  readonly services?: ModuleServices;
  /**
   * Run the module's code inside {@link moduleScope} so uncaught errors can be charged to it.
   * Only inline modules need it. On Node 24 AsyncLocalStorage is built on AsyncContextFrame and
   * costs calls next to nothing (BENCHMARKS.md); on Node 22 it enables promise hooks process-wide.
   */
  readonly scoped: boolean;
}

/**
 * The module's actions, each bound once to the module's async scope (and to the actions object
 * as `this`). Entering a stored context per call with `als.run()` costs about 1.7x more than a
 * function bound to it once (measured on Node 24; BENCHMARKS.md).
 */
function bindToScope(driver: ModuleDriver, actions: ActionMap): ActionMap {
  return moduleScope.run(driver, () => {
    const bound = ownActions(actions);
    for (const [name, fn] of Object.entries(bound)) bound[name] = AsyncResource.bind(fn, 'hsu.action', actions);
    return bound;
  });
}

/**
 * A module's `reconfigure(config)` method is reachable as the `reconfigure` action (what a reload's
 * in-place change calls, in every deployment), unless the module defines that action itself.
 */
function withReconfigure(module: WorkerModule, applied: (config: Record<string, unknown>) => void): ActionMap {
  const actions = module.actions ?? {};
  const method = module.reconfigure;
  if (typeof method !== 'function' || Object.hasOwn(actions, 'reconfigure')) return actions;
  return {
    ...actions,
    reconfigure: async (config: Record<string, unknown>) => {
      await method.call(module, config);
      applied(config);
    },
  };
}

/** The actions by name in a prototype-free map: an action named `toString` or `constructor` is the module's or nothing. */
function ownActions(actions: ActionMap): ActionMap {
  const own = Object.create(null) as ActionMap;
  for (const [name, fn] of Object.entries(actions)) if (typeof fn === 'function') own[name] = fn;
  return own;
}

export class ModuleDriver {
  readonly loadedAt = Date.now();
  private readonly abort = new AbortController();
  /**
   * Aborts every call still in flight once the instance has ended. In-process code cannot be
   * pre-empted, so interruption is cooperative: an action that honours `call.signal` rejects with
   * HSU_ERR_CALL_INTERRUPTED, as a call into an ended thread or process does. No per-call cost.
   */
  private readonly callsAbort = new AbortController();
  private readonly context: ModuleContext;
  private readonly callContext: CallContext;
  private readonly actions: ActionMap;
  /** What calls invoke: the actions themselves, or bound to the module's scope when attribution is on. */
  private readonly callable: ActionMap;
  /**
   * With attribution on, a bound action re-enters the async context it was bound in, which would
   * hide the caller's trace context; a traced call runs the plain action through this runner
   * (bound to the same scope) with the caller's context re-entered inside it.
   */
  private readonly traced: { readonly run: <T>(thunk: () => T) => T; readonly actions: ActionMap } | undefined;
  private phase: 'new' | 'starting' | 'running' | 'stopping' | 'ended' = 'new';
  private earlyFatal: Error | undefined;
  private fatalSent = false;
  private currentEndpoint: WorkerEndpoint;
  private readonly bus: InstanceBus;

  constructor(
    readonly module: WorkerModule,
    private readonly options: ModuleDriverOptions,
  ) {
    this.actions = withReconfigure(module, (config) => {
      // What the module reads from ctx.config from now on; reconfigure() got it first.
      (this.context as { config: Record<string, unknown> }).config = config;
    });
    this.callable = options.scoped ? bindToScope(this, this.actions) : ownActions(this.actions);
    this.traced = options.scoped ? { run: moduleScope.run(this, () => AsyncResource.bind(<T>(thunk: () => T): T => thunk())), actions: ownActions(this.actions) } : undefined;
    this.currentEndpoint = options.defaultEndpoint;
    this.callContext = { signal: this.callsAbort.signal, workerId: options.workerId };
    const services = options.services ?? NO_SERVICES;
    this.bus = new InstanceBus(services);
    this.context = {
      call: (target, action, input, callOptions) => services.call(target, action, input, callOptions),
      bus: this.bus,
      workerId: options.workerId,
      config: options.config,
      logger: options.logger,
      signal: this.abort.signal,
      fail: (error: unknown) => this.reportFatal(error, 'MODULE_FATAL'),
      run: <T>(task: Promise<T> | (() => Promise<T>)): Promise<T> => {
        const promise = typeof task === 'function' ? this.inScope(task) : task;
        promise.catch((error: unknown) => {
          if (!this.abort.signal.aborted) this.reportFatal(error, 'MODULE_FATAL');
        });
        return promise;
      },
      setEndpoint: (endpoint: WorkerEndpoint) => {
        this.currentEndpoint = endpoint;
        this.options.onEndpoint?.(endpoint);
      },
    };
  }

  get endpoint(): WorkerEndpoint {
    return this.currentEndpoint;
  }

  get actionNames(): string[] {
    return Object.keys(this.actions);
  }

  /** initialize() then start(), inside the module's async scope. Rejects if either fails or fail() was called meanwhile. */
  async start(): Promise<void> {
    this.phase = 'starting';
    await this.inScope(async () => {
      if (this.module.initialize !== undefined) {
        try {
          await this.module.initialize(this.context, this.options.config);
        } catch (error) {
          throw isHsuError(error) ? error : hsuError('MODULE_INIT_FAILED', `worker '${this.options.workerId}': initialize() failed: ${messageOf(error)}`, { worker_id: this.options.workerId }, error);
        }
      }
      try {
        await this.module.start(this.context);
      } catch (error) {
        throw isHsuError(error) ? error : hsuError('START_FAILED', `worker '${this.options.workerId}': start() failed: ${messageOf(error)}`, { worker_id: this.options.workerId }, error);
      }
    });
    if (this.earlyFatal !== undefined) throw this.earlyFatal;
    // A stop() that arrived during start wins: an ended driver must not come back to life.
    if (this.phase === 'starting') this.phase = 'running';
  }

  /** Fires ctx.signal and awaits module.stop(). Safe to call in any phase, more than once. */
  async stop(): Promise<void> {
    if (this.phase === 'stopping' || this.phase === 'ended') return;
    this.phase = 'stopping';
    this.abort.abort();
    try {
      if (this.module.stop !== undefined) await this.inScope(() => this.module.stop?.(this.context));
    } finally {
      this.phase = 'ended';
      this.interruptCalls();
      this.bus.close();
    }
  }

  /** The module's isHealthy(), bounded by `timeoutMs`: a hung check answers `'timeout'`. */
  async health(timeoutMs?: number): Promise<boolean | 'timeout'> {
    if (this.phase !== 'running') return false;
    if (this.module.isHealthy === undefined) return true;
    let timer: NodeJS.Timeout | undefined;
    try {
      const answer = Promise.resolve(this.inScope(() => this.module.isHealthy?.())).then((ok) => ok === true);
      if (timeoutMs === undefined) return await answer;
      return await Promise.race([answer, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)))]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Hot path: no allocation beyond what the action itself does when no signal is given. With a
   * signal, the call gets its own controller tied to the caller's signal and to the instance's end
   * by listeners that are removed when the call settles. (AbortSignal.any() would tie every call's
   * signal to the instance-long one for as long as the instance lives: a leak per call.)
   */
  call(action: string, input: unknown, signal?: AbortSignal): Promise<unknown> {
    const fn = this.callable[action];
    if (fn === undefined) {
      return Promise.reject(
        hsuError('ACTION_NOT_FOUND', `worker '${this.options.workerId}' has no action '${action}' (actions: ${this.actionNames.join(', ') || 'none'})`, {
          worker_id: this.options.workerId,
          action,
          available: this.actionNames,
        }),
      );
    }
    if (signal === undefined) return this.invoke(action, fn, input, this.callContext);
    const controller = new AbortController();
    const ended = this.callsAbort.signal;
    const onCaller = (): void => controller.abort(signal.reason);
    const onEnded = (): void => controller.abort(ended.reason);
    if (signal.aborted) onCaller();
    else if (ended.aborted) onEnded();
    else {
      signal.addEventListener('abort', onCaller, { once: true });
      ended.addEventListener('abort', onEnded, { once: true });
    }
    return this.invoke(action, fn, input, { signal: controller.signal, workerId: this.options.workerId }).finally(() => {
      signal.removeEventListener('abort', onCaller);
      ended.removeEventListener('abort', onEnded);
    });
  }

  private invoke(action: string, fn: ActionMap[string], input: unknown, ctx: CallContext): Promise<unknown> {
    try {
      const hook = this.traced === undefined ? undefined : callContextHook();
      // A bound action runs in the module's scope, so an uncaught error from async work it starts is charged to the module.
      const result = hook === undefined ? fn.call(this.actions, input, ctx) : this.invokeTraced(hook, action, input, ctx);
      return result instanceof Promise ? result : Promise.resolve(result);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private invokeTraced(hook: CallContextHook, action: string, input: unknown, ctx: CallContext): unknown {
    const traced = this.traced!;
    const raw = traced.actions[action]!;
    const captured = hook.capture();
    return traced.run(() => hook.enter(captured, () => raw.call(this.actions, input, ctx)));
  }

  /** The module's own facts (`diagnostics()` of the module object), or null; never throws. */
  moduleDiagnostics(): Record<string, unknown> | null {
    if (this.module.diagnostics === undefined) return null;
    try {
      return this.module.diagnostics();
    } catch (error) {
      return { error: messageOf(error) };
    }
  }

  /** The instance is gone (it crashed): calls in flight are told at once, whatever stop() does. */
  interruptCalls(): void {
    if (!this.callsAbort.signal.aborted) this.callsAbort.abort(hsuError('CALL_INTERRUPTED', `worker '${this.options.workerId}' ended while the call was in flight`, { worker_id: this.options.workerId }));
  }

  private inScope<T>(fn: () => T): T {
    return this.options.scoped ? moduleScope.run(this, fn) : fn();
  }

  /** Entry point for fatal reports from ctx.fail(), ctx.run() and uncaught-error attribution. */
  reportFatal(error: unknown, code: 'MODULE_FATAL' | 'MODULE_UNCAUGHT'): void {
    if (this.phase === 'stopping' || this.phase === 'ended') return;
    const wrapped = isHsuError(error)
      ? error
      : hsuError(code, `worker '${this.options.workerId}': ${code === 'MODULE_UNCAUGHT' ? 'uncaught exception' : 'fatal error'}: ${messageOf(error)}`, { worker_id: this.options.workerId }, error);
    if (error instanceof Error && error.stack !== undefined && wrapped !== error) wrapped.stack = `${wrapped.message}\n  caused by: ${error.stack}`;
    if (this.phase !== 'running') {
      this.earlyFatal ??= wrapped;
      return;
    }
    if (this.fatalSent) return;
    this.fatalSent = true;
    this.options.onFatal(wrapped);
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
