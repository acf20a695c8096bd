/**
 * The module author's contract (`hsu/worker`). It has no runtime dependencies so that a module file
 * can be loaded in the master's event loop, in a worker thread or in a child process unchanged.
 */

/** Pino-compatible logging surface; the master hands every module a child logger bound to `worker`. */
export interface ModuleLogger {
  trace(obj: unknown, msg?: string): void;
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
  fatal(obj: unknown, msg?: string): void;
  child(bindings: Record<string, unknown>): ModuleLogger;
}

/** Where a worker can be reached, as the seeds define it. */
export interface WorkerEndpoint {
  type: 'function' | 'ipc' | 'url' | 'thread';
  address: string;
  metadata?: Record<string, unknown>;
}

export interface ModuleInfo {
  name: string;
  version: string;
  description?: string;
}

export interface ModuleContext<Config = Record<string, unknown>> {
  /** The worker id this instance runs as. */
  readonly workerId: string;
  /** The `config:` block of the worker, as given in YAML or `addWorker()`. */
  readonly config: Config;
  /** Child logger with `worker` bound; output is tagged with the worker id wherever the module runs. */
  readonly logger: ModuleLogger;
  /** Fires when the worker is asked to stop (and on restart); long-running work should watch it. */
  readonly signal: AbortSignal;
  /** Report a fatal error after start: the worker is marked crashed and restarted by its policy. */
  fail(error: unknown): void;
  /**
   * Supervise a long-running task: a rejection is treated like `fail(err)`. Returns the promise so
   * the module can still await it in `stop()`.
   */
  run<T>(task: Promise<T> | (() => Promise<T>)): Promise<T>;
  /** Publish where this module can be reached (a module serving HTTP reports its URL). */
  setEndpoint(endpoint: WorkerEndpoint): void;
  /**
   * Call a worker or a service wherever it runs (inline, thread, process), as `master.call` does:
   * the same code whatever this module's own deployment.
   */
  call(target: string, action: string, input?: unknown, options?: ModuleCallOptions): Promise<unknown>;
  /** The master's event bus: topics shared by every module, whatever its deployment, and by the master. */
  readonly bus: ModuleBus;
}

/** Options of a call a module makes; a timeout stands for a signal (signals do not cross processes). */
export interface ModuleCallOptions {
  timeout?: number;
  idempotent?: boolean;
  key?: string;
}

export interface ModuleBus {
  /** Publishes `payload` (structured-clone safe) on `topic` (1-128 of [A-Za-z0-9_.:-]). */
  publish(topic: string, payload: unknown): void;
  /** Calls `handler` for every later publication on `topic`; returns the function that unsubscribes. Ends with the instance. */
  subscribe(topic: string, handler: (payload: unknown) => void): () => void;
}

/** Per-call context handed to an action. */
export interface CallContext {
  readonly signal: AbortSignal;
  readonly workerId: string;
}

export type Action<In = unknown, Out = unknown> = (input: In, call: CallContext) => Out | Promise<Out>;

// `any` is needed here: a constraint of `Action<unknown, unknown>` would reject actions with narrower inputs.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ActionMap = Record<string, Action<any, any>>;

export interface WorkerModule<Config = Record<string, unknown>, Actions extends ActionMap = ActionMap> {
  readonly info: ModuleInfo;
  /** Called once per instance before start, with the worker's config. */
  initialize?(ctx: ModuleContext<Config>, config: Config): void | Promise<void>;
  /** Resolve when the module is ready to serve; long-running work goes into `ctx.run()`. */
  start(ctx: ModuleContext<Config>): void | Promise<void>;
  /** Release what start acquired; `ctx.signal` has already fired. */
  stop?(ctx: ModuleContext<Config>): void | Promise<void>;
  isHealthy?(): boolean | Promise<boolean>;
  /**
   * Take a new `config:` block without a restart (a reload whose only change is the module's config);
   * throw to refuse it, and the worker is restarted with it instead. Without it, such a reload restarts the worker.
   */
  reconfigure?(config: Config): void | Promise<void>;
  /** Cheap facts of the module's own (a queue's lag, a cache's size), shown in the worker's diagnostics. */
  diagnostics?(): Record<string, unknown>;
  /** Named async actions reachable through `master.call()` and `master.client()`. */
  readonly actions?: Actions;
}

/** What a plugin's entry point exports: a factory (preferred: a fresh instance per start) or a module object. */
export type ModuleFactory<M extends WorkerModule = WorkerModule> = () => M | Promise<M>;
export type ModuleExport<M extends WorkerModule = WorkerModule> = ModuleFactory<M> | M;

/** Extracts the action map from a module, a factory or a module export. */
export type ActionsOf<T> = T extends (...args: never[]) => infer R
  ? ActionsOf<Awaited<R>>
  : T extends { actions?: infer A }
    ? NonNullable<A> extends ActionMap
      ? NonNullable<A>
      : never
    : never;
