/**
 * The Master: one table of workers of every type, one API over it. It owns ordering (start in
 * config order, shut down in reverse), the shutdown deadline, the event bus and the seams
 * (runtimes, probes, watchdogs, call middleware); the lifecycle of each worker lives in its
 * controller. Everything process-wide it installs (last-resort hook, error attribution) is tied
 * to its lifetime and given back at shutdown.
 */
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { DEFAULTS, loadConfigFile, parseDuration, parseWorkerConfig, type HsuConfig, type ReadinessConfig, type WorkerConfig, type WorkerConfigInput } from '../config/index.js';
import { hsuError } from '../errors.js';
import { EventBus } from '../events/bus.js';
import { ProbeRegistry } from '../health/registry.js';
import { WorkerController } from '../lifecycle/controller.js';
import type { WorkerDiagnostics } from '../lifecycle/diagnostics.js';
import { HealthWatchdog, type HealthSnapshot } from '../lifecycle/health-watchdog.js';
import { pollReadiness } from '../lifecycle/readiness.js';
import { ScheduleWatchdog } from '../lifecycle/schedule-watchdog.js';
import { DEFAULT_RESTART_POLICY } from '../lifecycle/restart-policy.js';
import type { Runtime } from '../lifecycle/runtime.js';
import { OPERATIONS, type WorkerState } from '../lifecycle/states.js';
import type { Watchdog } from '../lifecycle/watchdog.js';
import { CgroupManager, defaultInstanceTag } from '../os/cgroups/index.js';
import { PidRegistry, type OrphanRecord } from '../os/pid-registry.js';
import { ResourceMonitor } from '../limits/resource-monitor.js';
import { ResourcesWatchdog } from '../limits/resources-watchdog.js';
import { ProcessGroups } from '../os/process-groups.js';
import { registerBuiltinRuntimes } from '../runtimes/builtin.js';
import { acquireAttribution, type AttributionScope } from '../runtimes/module/uncaught-attribution.js';
import { RuntimeRegistry, type RuntimeDefinition } from '../runtimes/registry.js';
import type { CallOptions, Client } from '../worker/define.js';
import type { ModuleExport } from '../worker/contract.js';
import { awaitDependencies, dependencyOrder, type DependencyHost } from './dependencies.js';
import type { MasterEvents } from './events.js';
import { installLastResort } from './last-resort.js';
import { resolveOrphans } from './orphans.js';
import { compose, type CallMiddleware, type CallNext } from './middleware.js';

/** Builds extra watchdogs for a worker (resource limits, schedules); undefined when none applies. */
export type WatchdogFactory = (config: WorkerConfig) => Watchdog | undefined;

export interface MasterOptions {
  /** Master log; defaults to a silent logger so library use prints nothing unasked. */
  readonly logger?: Logger;
  /** Where per-worker stdout/stderr files go. Default `./logs`. */
  readonly logDir?: string;
  /** Upper bound for shutdown(); after it, remaining workers are force-stopped. Default 30 s. */
  readonly shutdownTimeoutMs?: number;
  /** Resolve relative paths of workers added through addWorker() against this directory. */
  readonly baseDir?: string;
  /** Charge uncaught errors raised by inline modules to their module instead of ending the master (docs/isolation.md). Default true. */
  readonly attributeUncaughtErrors?: boolean;
  /**
   * Where the master records the pids it spawned and holds its lock. A master that finds records
   * left by a dead master (e.g. one killed with SIGKILL) kills those orphans before anything starts.
   * Unset: no records (`hsu run` and {@link Master.fromConfigFile} use `master.state_dir`).
   */
  readonly stateDir?: string;
  /** Extra watchdogs per worker, beside its health checks. */
  readonly watchdogs?: readonly WatchdogFactory[];
  /** A cgroup per process worker: auto (v2, else v1, else none), a given version, or off. Default auto. */
  readonly cgroups?: 'auto' | 'v2' | 'v1' | 'off';
  /** How often process workers' resources are sampled (one pass over /proc for all). Default 1 s. */
  readonly sampleIntervalMs?: number;
}

/** Masters created in this process: a second one gets its own cgroup names. */
let mastersInProcess = 0;

export interface StartResult {
  readonly id: string;
  readonly ok: boolean;
  readonly error?: { code: string; message: string };
}

export interface ShutdownReport {
  /** True when the deadline passed (or a forced shutdown was asked for) and workers were forced down. */
  readonly forced: boolean;
  readonly duration_ms: number;
}

/** What a whole config file does not say: how the master logs, and the code it runs. */
export interface FromConfigOptions {
  readonly logger?: Logger;
  /** Native module factories the config's `module_type: native` workers name. */
  readonly natives?: Readonly<Record<string, ModuleExport>>;
  readonly watchdogs?: readonly WatchdogFactory[];
}

interface WorkerEntry {
  readonly config: WorkerConfig;
  readonly controller: WorkerController;
  readonly runtime: Runtime;
}

export class Master {
  readonly logger: Logger;
  /** Every lifecycle event, delivered asynchronously (after the transition that caused it). */
  readonly events: EventBus<MasterEvents>;
  /** Runtime kinds; register one to run a new kind of worker. */
  readonly runtimes = registerBuiltinRuntimes(new RuntimeRegistry());
  /** Health probe types; register one to add a probe type. */
  readonly probes = ProbeRegistry.withBuiltins();
  private readonly entries = new Map<string, WorkerEntry>();
  private readonly natives = new Map<string, ModuleExport>();
  private readonly logDir: string;
  private readonly shutdownTimeoutMs: number;
  private readonly baseDir: string;
  private readonly attributeUncaughtErrors: boolean;
  private readonly watchdogFactories: readonly WatchdogFactory[];
  private readonly groups = new ProcessGroups();
  private readonly pids: PidRegistry | undefined;
  private readonly resources: ResourceMonitor;
  private readonly cgroupMode: 'auto' | 'v2' | 'v1' | 'off';
  private readonly serial = mastersInProcess++;
  private cgroupManager: CgroupManager | undefined;
  /** Processes a dead master left running, until decideOrphans() has adopted or killed them. */
  private orphans: readonly OrphanRecord[] = [];
  private orphanDecision: Promise<void> | undefined;
  private readonly removeLastResort: () => void;
  private attribution: AttributionScope | undefined;
  private middlewares: CallMiddleware[] = [];
  private callChain: CallNext | undefined;
  private shuttingDown: Promise<ShutdownReport> | undefined;
  private forceShutdown: ((why: string) => void) | undefined;

  constructor(options: MasterOptions = {}) {
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.events = new EventBus<MasterEvents>(({ event, error }) => this.logger.error({ err: error, event }, 'an event listener threw; ignored'));
    this.baseDir = options.baseDir ?? process.cwd();
    this.logDir = path.resolve(this.baseDir, options.logDir ?? 'logs');
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? 30_000;
    this.attributeUncaughtErrors = options.attributeUncaughtErrors ?? true;
    this.watchdogFactories = options.watchdogs ?? [];
    this.cgroupMode = options.cgroups ?? 'auto';
    this.resources = new ResourceMonitor(options.sampleIntervalMs ?? 1_000, (err) => this.logger.warn({ err }, 'resource sampling failed'));
    this.pids = options.stateDir === undefined ? undefined : this.claimStateDir(path.resolve(this.baseDir, options.stateDir));
    this.removeLastResort = installLastResort(this.groups);
  }

  /**
   * A master configured by a whole config file: its `master:` section (log and state
   * directories, shutdown timeout, error attribution, orphan reaping) and every worker, not
   * started. The one obvious way to run a config file from code.
   * @example
   * const master = Master.fromConfigFile('hsu.yaml', { logger });
   * await master.start();
   * // ...
   * await master.shutdown();
   */
  static fromConfigFile(file: string, options: FromConfigOptions = {}): Master {
    return Master.fromConfig(loadConfigFile(file), file, options);
  }

  /** As {@link fromConfigFile}, for a config already loaded from `file` (relative paths resolve against its directory). */
  static fromConfig(config: HsuConfig, file: string, options: FromConfigOptions = {}): Master {
    const master = new Master({
      logDir: config.master.log_dir,
      stateDir: config.master.state_dir,
      shutdownTimeoutMs: config.master.shutdown_timeout,
      attributeUncaughtErrors: config.master.inline_error_attribution,
      cgroups: config.master.cgroups,
      sampleIntervalMs: config.master.sample_interval,
      baseDir: path.dirname(path.resolve(file)),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      ...(options.watchdogs === undefined ? {} : { watchdogs: options.watchdogs }),
    });
    try {
      for (const [name, factory] of Object.entries(options.natives ?? {})) master.registerNativeModuleFactory(name, factory);
      for (const worker of config.workers) master.addWorker(worker);
    } catch (error) {
      master.abandon();
      throw error;
    }
    // Every worker is known: what a dead master left running can be adopted (or killed) now.
    void master.decideOrphans();
    return master;
  }

  // ---- events ---------------------------------------------------------------------------------

  /** Subscribe to an event; returns the function that unsubscribes. */
  on<K extends keyof MasterEvents>(name: K, listener: (event: MasterEvents[K]) => unknown): () => void {
    return this.events.on(name, listener);
  }

  off<K extends keyof MasterEvents>(name: K, listener: (event: MasterEvents[K]) => unknown): void {
    this.events.off(name, listener);
  }

  /** The next event of `name` matching `filter`; aborting `signal` stops waiting. */
  once<K extends keyof MasterEvents>(name: K, filter?: (event: MasterEvents[K]) => boolean, signal?: AbortSignal): Promise<MasterEvents[K]> {
    return this.events.once(name, filter, signal);
  }

  // ---- seams ----------------------------------------------------------------------------------

  /** Register a factory for `module_type: native` workers. */
  registerNativeModuleFactory(name: string, factory: ModuleExport): void {
    if (this.natives.has(name)) {
      throw hsuError('MODULE_FACTORY_EXISTS', `a native module factory named '${name}' is already registered`, { module_name: name });
    }
    this.natives.set(name, factory);
    this.logger.debug({ module_name: name }, 'registered native module factory');
  }

  /** Register a runtime kind; it is consulted before the built-in ones. */
  registerRuntime(definition: RuntimeDefinition): void {
    this.runtimes.register(definition);
  }

  /** Wrap every `call()` (first added runs outermost). */
  use(middleware: CallMiddleware): void {
    this.middlewares = [...this.middlewares, middleware];
    this.callChain = compose(this.middlewares, (request) => this.callWorker(request.target, request.action, request.input, request.options));
  }

  // ---- the worker table -----------------------------------------------------------------------

  /** Validate and add a worker (not started). Accepts the YAML shape; relative paths resolve against `baseDir`. */
  addWorker(input: WorkerConfigInput | WorkerConfig): void {
    this.assertOpen();
    const config = parseWorkerConfig(input, this.baseDir);
    if (this.entries.has(config.id)) {
      throw hsuError('WORKER_EXISTS', `a worker with id '${config.id}' already exists`, { worker_id: config.id });
    }
    const runtime = this.runtimes.resolve(config).create(config, {
      logDir: this.logDir,
      natives: this.natives,
      attribution: () => this.attributionScope(),
      tracker: this.pids,
      groups: this.groups,
      cgroups: () => this.cgroups(),
      onLine: (workerId, stream, line, pid) => {
        if (this.events.has('output')) this.events.emit('output', { worker_id: workerId, stream, line, pid: pid ?? null });
      },
    });
    const logger = this.logger.child({ worker: config.id });
    const emit = (name: keyof MasterEvents, event: unknown): void => this.publish(name, event);
    const health = new HealthWatchdog(config.id, config.health_check, (check, instance) => this.probes.create(check, { workerId: config.id, instance }), emit);
    const watchdogs = this.watchdogFactories.map((factory) => factory(config)).filter((w): w is Watchdog => w !== undefined);
    if (config.restart_schedule !== undefined) watchdogs.push(new ScheduleWatchdog(config.restart_schedule));
    watchdogs.push(new ResourcesWatchdog(config.id, this.resources, config.type === 'process' ? config.limits : undefined));
    const readinessCheck = readinessOf(config);
    const controller = new WorkerController({
      id: config.id,
      type: config.type,
      runtime,
      logger,
      emit,
      startTimeoutMs: config.start_timeout,
      stopTimeoutMs: config.stop_timeout,
      stopSignal: config.stop_signal as NodeJS.Signals,
      restart: config.restart ?? DEFAULT_RESTART_POLICY,
      health,
      watchdogs,
      ...(readinessCheck === undefined
        ? {}
        : { readiness: pollReadiness(config.id, readinessCheck, (instance) => this.probes.create(readinessCheck, { workerId: config.id, instance })) }),
      enabled: () => config.enabled,
    });
    this.entries.set(config.id, { config, controller, runtime });
    this.logger.info({ worker: config.id, type: config.type, runtime: runtime.kind }, 'worker added');
    this.events.emit('added', { worker_id: config.id, type: config.type, runtime: runtime.kind });
  }

  /** Remove a worker that is not running (stop it first). */
  async removeWorker(id: string): Promise<void> {
    const entry = this.entry(id);
    const allowed: readonly WorkerState[] = OPERATIONS.remove;
    if (!allowed.includes(entry.controller.state)) {
      throw hsuError('WORKER_RUNNING', `cannot remove worker '${id}' while it is ${entry.controller.state}; stop it first`, { worker_id: id, state: entry.controller.state });
    }
    entry.controller.close();
    this.entries.delete(id);
    await releaseRuntime(entry.runtime, this.logger);
    this.logger.info({ worker: id }, 'worker removed');
    this.events.emit('removed', { worker_id: id });
  }

  /** Starts the worker, after starting whatever it depends on that is not up (as systemctl start does). */
  startWorker(id: string): Promise<void> {
    this.assertOpen();
    // A process a dead master left running for this worker is adopted first, never duplicated.
    if (this.orphans.length > 0 && this.orphanDecision === undefined) return this.decideOrphans().then(() => this.startWorker(id));
    const entry = this.entry(id);
    // Without dependencies the start begins now, in this turn, as a plain start always has.
    return entry.config.depends_on.length === 0 ? entry.controller.start() : this.startAfterDependencies(entry);
  }

  private async startAfterDependencies(entry: WorkerEntry): Promise<void> {
    for (const dep of entry.config.depends_on) {
      const depState = this.entry(dep.worker).controller.state;
      if ((OPERATIONS.start as readonly WorkerState[]).includes(depState)) await this.startWorker(dep.worker);
    }
    await awaitDependencies(this.dependencyHost, entry.config, entry.config.start_timeout);
    await entry.controller.start();
  }

  stopWorker(id: string, options: { force?: boolean } = {}): Promise<void> {
    return this.entry(id).controller.stop(options);
  }

  restartWorker(id: string, options: { force?: boolean } = {}): Promise<void> {
    this.assertOpen();
    return this.entry(id).controller.restart(options);
  }

  getWorkerState(id: string): WorkerState {
    return this.entry(id).controller.state;
  }

  getWorkerConfig(id: string): WorkerConfig {
    return this.entry(id).config;
  }

  getWorkerStateWithDiagnostics(id: string): WorkerDiagnostics {
    return this.entry(id).controller.diagnostics();
  }

  getAllWorkerStatesWithDiagnostics(): Record<string, WorkerDiagnostics> {
    const out: Record<string, WorkerDiagnostics> = {};
    for (const [id, entry] of this.entries) out[id] = entry.controller.diagnostics();
    return out;
  }

  getWorkerHealth(id: string): Promise<HealthSnapshot> {
    return this.entry(id).controller.checkHealth();
  }

  /** Worker ids in config order. */
  listWorkers(): string[] {
    return [...this.entries.keys()];
  }

  // ---- calls ----------------------------------------------------------------------------------

  /** Call a module action wherever the module runs: function call, postMessage or IPC; through the middleware. */
  call(id: string, action: string, input?: unknown, options?: CallOptions): Promise<unknown> {
    const chain = this.callChain;
    if (chain === undefined) return this.callWorker(id, action, input, options);
    return chain({ target: id, action, input, options });
  }

  /**
   * A typed proxy over {@link call}.
   * @example
   * const greeter = master.client<typeof import('./greeter.js').default>('greeter');
   * const text = await greeter.greet('Ada'); // typed input and output
   */
  client<T>(id: string): Client<T> {
    // The proxy is the prototype: the first access defines the method on the object itself, so
    // later calls are plain property reads (no trap, no new closure per call).
    const trap = new Proxy({} as Record<string, unknown>, {
      get: (_target, action, receiver: object) => {
        if (typeof action !== 'string' || action === 'then') return undefined; // not a thenable
        const method = (input: unknown, options?: CallOptions): Promise<unknown> => this.call(id, action, input, options);
        Object.defineProperty(receiver, action, { value: method, enumerable: true });
        return method;
      },
    });
    return Object.create(trap) as Client<T>;
  }

  private callWorker(id: string, action: string, input: unknown, options: CallOptions | undefined): Promise<unknown> {
    const entry = this.entries.get(id);
    if (entry === undefined) return Promise.reject(this.notFound(id));
    return entry.controller.call(action, input, options);
  }

  // ---- start and shutdown ---------------------------------------------------------------------

  /**
   * Start every enabled worker, dependencies first (config order otherwise). A failing worker does
   * not stop the others; those that depend on it fail with HSU_ERR_DEPENDENCY_FAILED.
   */
  async start(): Promise<StartResult[]> {
    this.assertOpen();
    await this.decideOrphans();
    const results: StartResult[] = [];
    for (const id of dependencyOrder([...this.entries.values()].map((e) => e.config))) {
      const entry = this.entries.get(id);
      if (entry === undefined) continue;
      if (this.shuttingDown !== undefined) break; // a signal arrived mid-start: launch nothing more
      if (!entry.config.enabled || !(OPERATIONS.start as readonly WorkerState[]).includes(entry.controller.state)) continue;
      try {
        if (entry.config.depends_on.length > 0) await awaitDependencies(this.dependencyHost, entry.config, entry.config.start_timeout);
        await entry.controller.start();
        results.push({ id, ok: true });
      } catch (error) {
        const e = error as { code?: string; message?: string };
        this.logger.error({ worker: id, code: e.code, err: error }, 'worker failed to start');
        results.push({ id, ok: false, error: { code: e.code ?? 'HSU_ERR_UNKNOWN', message: e.message ?? String(error) } });
      }
    }
    return results;
  }

  /** True once shutdown() has begun. */
  get closing(): boolean {
    return this.shuttingDown !== undefined;
  }

  /**
   * Stop every worker in reverse config order. After `shutdownTimeoutMs` (or at once with
   * `force`, also for a shutdown already under way) the rest are force-stopped together; resolves
   * when nothing runs and everything the master installed is given back. Idempotent.
   */
  shutdown(options: { force?: boolean } = {}): Promise<ShutdownReport> {
    this.shuttingDown ??= this.doShutdown();
    if (options.force === true) this.forceShutdown?.('forced shutdown requested');
    return this.shuttingDown;
  }

  private async doShutdown(): Promise<ShutdownReport> {
    const started = Date.now();
    // Dependents before what they depend on: the reverse of the start order.
    const order = dependencyOrder([...this.entries.values()].map((e) => e.config))
      .reverse()
      .map((id) => this.entries.get(id))
      .filter((entry): entry is WorkerEntry => entry !== undefined);
    // First, before any await: a restart half-way through must not launch behind our back.
    for (const { controller } of order) controller.close();
    let forcing = false;
    // Force-stopped workers end as requested stops, so nothing is restarted on the way out.
    this.forceShutdown = (why) => {
      if (forcing) return;
      forcing = true;
      this.logger.warn({ timeout_ms: this.shutdownTimeoutMs }, `${why}; forcing remaining workers`);
      for (const { controller } of order) void stopQuietly(controller, true);
    };
    const deadline = setTimeout(() => this.forceShutdown?.('shutdown deadline passed'), this.shutdownTimeoutMs);
    try {
      for (const { controller } of order) await stopQuietly(controller, forcing);
    } finally {
      clearTimeout(deadline);
      this.forceShutdown = undefined;
    }
    // A master that never started never decided about what its predecessor left: nothing of it may outlive us.
    if (this.orphanDecision === undefined) for (const orphan of this.orphans) this.pids?.kill(orphan);
    // Nothing can start after shutdown: the workers' log files can be closed.
    await Promise.all(order.map(({ runtime }) => releaseRuntime(runtime, this.logger)));
    await this.pids?.close();
    this.resources.close();
    this.cgroupManager?.removeParentIfEmpty();
    this.attribution?.release();
    this.attribution = undefined;
    this.removeLastResort();
    const report: ShutdownReport = { forced: forcing, duration_ms: Date.now() - started };
    this.logger.info(report, 'shutdown complete');
    return report;
  }

  // ---- internals ------------------------------------------------------------------------------

  private readonly dependencyHost: DependencyHost = {
    config: (id) => this.entries.get(id)?.config,
    state: (id) => this.entries.get(id)?.controller.state ?? 'idle',
    health: (id) => this.entries.get(id)?.controller.diagnostics().health ?? { status: 'unknown', checked_at: null, latency_ms: null, consecutive_failures: 0, consecutive_successes: 0 },
    once: (name, filter, signal) => this.events.once(name, filter, signal),
  };

  private claimStateDir(stateDir: string): PidRegistry {
    const registry = new PidRegistry(stateDir, (err) => this.logger.warn({ err, state_dir: stateDir }, 'could not update the pid registry'));
    let report;
    try {
      report = registry.claim();
    } catch (err) {
      throw hsuError('STATE_DIR_UNUSABLE', `cannot use state directory ${stateDir}: ${(err as Error).message}`, { state_dir: stateDir }, err);
    }
    if (report.ownedBy !== undefined) {
      throw hsuError('STATE_DIR_IN_USE', `master pid ${report.ownedBy} is alive and owns ${stateDir}; two masters must not supervise the same workers`, { state_dir: stateDir, pid: report.ownedBy });
    }
    this.orphans = report.orphans;
    if (report.orphans.length > 0) this.logger.info({ orphans: report.orphans.map((o) => ({ worker: o.worker, pid: o.pid })) }, 'a previous master left processes running; they are adopted or killed when this master starts');
    return registry;
  }

  /** Adopts or kills what a dead master left running, once, before anything of this master starts. */
  private decideOrphans(): Promise<void> {
    const pids = this.pids;
    if (pids === undefined || this.orphans.length === 0) return Promise.resolve();
    this.orphanDecision ??= resolveOrphans(
      { logger: this.logger, pids, entry: (worker) => this.entries.get(worker), cgroups: () => this.cgroups() },
      this.orphans,
    );
    return this.orphanDecision;
  }

  /** The master's cgroup manager, made (and the hierarchy detected) when the first process worker needs it. */
  private cgroups(): CgroupManager | undefined {
    if (this.cgroupMode === 'off') return undefined;
    this.cgroupManager ??= new CgroupManager({ prefer: this.cgroupMode === 'auto' ? 'auto' : this.cgroupMode, instanceTag: defaultInstanceTag(this.serial) });
    return this.cgroupManager;
  }

  /** Gives back what the constructor took (lock, hooks) for a master that never started. */
  private abandon(): void {
    this.shuttingDown = Promise.resolve({ forced: false, duration_ms: 0 });
    this.pids?.closeSync();
    this.removeLastResort();
  }

  private attributionScope(): AttributionScope | undefined {
    if (!this.attributeUncaughtErrors) return undefined;
    this.attribution ??= acquireAttribution();
    return this.attribution;
  }

  private publish(name: keyof MasterEvents, event: unknown): void {
    if (name === 'state') {
      const e = event as MasterEvents['state'];
      const level = e.to === 'failed' || e.to === 'failed_start' ? 'error' : e.to === 'waiting_restart' ? 'warn' : 'info';
      this.logger[level]({ worker: e.worker_id, from: e.from, to: e.to, pid: e.pid, ...(e.reason === undefined ? {} : { reason: e.reason }), ...(e.cause === undefined ? {} : { cause: e.cause }) }, 'state');
    } else if (name === 'restart') {
      const e = event as MasterEvents['restart'];
      this.logger.info({ worker: e.worker_id, cause: e.cause, attempt: e.attempt, delay_ms: e.delay_ms }, 'restart scheduled');
    }
    this.events.emit(name, event as never);
  }

  private entry(id: string): WorkerEntry {
    const entry = this.entries.get(id);
    if (entry === undefined) throw this.notFound(id);
    return entry;
  }

  private notFound(id: string): Error {
    return hsuError('WORKER_NOT_FOUND', `no worker with id '${id}' (workers: ${[...this.entries.keys()].join(', ') || 'none'})`, { worker_id: id });
  }

  private assertOpen(): void {
    if (this.shuttingDown !== undefined) throw hsuError('MASTER_SHUT_DOWN', 'the master is shutting down; no new work is accepted');
  }
}

/** Runtimes that capture output keep log files open across restarts; release them once the worker is gone for good. */
async function releaseRuntime(runtime: Runtime, logger: Logger): Promise<void> {
  try {
    await runtime.close?.();
  } catch (err) {
    logger.warn({ err }, 'could not close worker log files');
  }
}

/** A shutdown's stop: forced or not, and letting go of what the master may not stop (unmanaged). */
async function stopQuietly(controller: WorkerController, force: boolean): Promise<void> {
  const state = controller.state;
  if (state !== 'stopping' && !(OPERATIONS.stop as readonly WorkerState[]).includes(state)) return;
  await controller.stop({ force, detach: true }).catch(() => undefined);
}

/** The readiness probe of a worker: its own `readiness` block, or for an integrated worker a connect to its port. */
function readinessOf(config: WorkerConfig): ReadinessConfig | undefined {
  if (config.readiness !== undefined) return config.readiness;
  if (config.type !== 'process' || config.management !== 'integrated') return undefined;
  const r = DEFAULTS.readiness;
  return { type: 'tcp', host: config.integration?.host ?? DEFAULTS.integration.host, interval: parseDuration(r.interval), timeout: parseDuration(r.timeout), failure_threshold: r.failure_threshold, success_threshold: r.success_threshold, initial_delay: 0 };
}
