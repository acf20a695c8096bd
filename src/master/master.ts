/**
 * The Master: one table of workers of every type, one API over it. It owns ordering (start in
 * config order, shut down in reverse), the shutdown deadline and event fan-out; the lifecycle of
 * each worker lives in its controller.
 */
import { EventEmitter } from 'node:events';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { parseWorkerConfig, type WorkerConfig, type WorkerConfigInput } from '../config/index.js';
import { hsuError } from '../errors.js';
import { WorkerController } from '../lifecycle/controller.js';
import type { HealthSnapshot } from '../lifecycle/health-monitor.js';
import { DEFAULT_RESTART_POLICY } from '../lifecycle/restart-policy.js';
import { OPERATIONS, type WorkerState } from '../lifecycle/states.js';
import { PidRegistry } from '../process/pid-registry.js';
import { killAllProcessGroupsSync } from '../runtimes/process-runtime.js';
import type { Runtime } from '../runtimes/types.js';
import type { CallOptions, Client } from '../worker/define.js';
import type { ModuleExport } from '../worker/contract.js';
import type { MasterEvents } from './events.js';
import { createRuntime } from './runtime-factory.js';

export interface MasterOptions {
  /** Master log; defaults to a silent logger so library use prints nothing unasked. */
  readonly logger?: Logger;
  /** Where per-worker stdout/stderr files go. Default `./logs`. */
  readonly logDir?: string;
  /** Upper bound for shutdown(); after it, remaining workers are force-stopped. Default 30 s. */
  readonly shutdownTimeoutMs?: number;
  /** Resolve relative paths of workers added through addWorker() against this directory. */
  readonly baseDir?: string;
  /**
   * Charge uncaught errors raised by inline modules to their module instead of ending the master
   * (docs/isolation.md). Default true. Costs promise throughput process-wide on Node 20: once an
   * AsyncLocalStorage is entered, every promise is tracked (see BENCHMARKS.md).
   */
  readonly attributeUncaughtErrors?: boolean;
  /**
   * Where the master records the pids it spawned. A master that finds records left by a dead
   * master (e.g. one killed with SIGKILL) kills those orphans before anything starts. Unset: no
   * records (`hsu run` uses `master.state_dir`, default `.hsu` beside the config).
   */
  readonly stateDir?: string;
}

export interface StartResult {
  readonly id: string;
  readonly ok: boolean;
  readonly error?: { code: string; message: string };
}

interface WorkerEntry {
  readonly config: WorkerConfig;
  readonly controller: WorkerController;
  readonly runtime: Runtime;
}

let exitHookInstalled = false;

export class Master extends EventEmitter<MasterEvents> {
  readonly logger: Logger;
  private readonly entries = new Map<string, WorkerEntry>();
  private readonly natives = new Map<string, ModuleExport>();
  private readonly logDir: string;
  private readonly shutdownTimeoutMs: number;
  private readonly baseDir: string;
  private readonly attributeUncaughtErrors: boolean;
  private shuttingDown: Promise<void> | undefined;
  private forceShutdown: ((why: string) => void) | undefined;
  private readonly pids: PidRegistry | undefined;

  constructor(options: MasterOptions = {}) {
    super();
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.baseDir = options.baseDir ?? process.cwd();
    this.logDir = path.resolve(this.baseDir, options.logDir ?? 'logs');
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? 30_000;
    this.attributeUncaughtErrors = options.attributeUncaughtErrors ?? true;
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      installLastResortHooks();
    }
    this.pids = options.stateDir === undefined ? undefined : this.claimStateDir(path.resolve(this.baseDir, options.stateDir));
  }

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
    for (const orphan of report.reaped) this.logger.warn({ worker: orphan.worker, pid: orphan.pid }, 'killed a process left behind by a previous master');
    return registry;
  }

  /** Register a factory for `module_type: native` workers. */
  registerNativeModuleFactory(name: string, factory: ModuleExport): void {
    if (this.natives.has(name)) {
      throw hsuError('MODULE_FACTORY_EXISTS', `a native module factory named '${name}' is already registered`, { module_name: name });
    }
    this.natives.set(name, factory);
    this.logger.debug({ module_name: name }, 'registered native module factory');
  }

  /** Validate and add a worker (not started). Accepts the YAML shape; relative paths resolve against `baseDir`. */
  addWorker(input: WorkerConfigInput | WorkerConfig): void {
    this.assertOpen();
    const config = parseWorkerConfig(input, this.baseDir);
    if (this.entries.has(config.id)) {
      throw hsuError('WORKER_EXISTS', `a worker with id '${config.id}' already exists`, { worker_id: config.id });
    }
    const runtime = createRuntime(config, {
      logDir: this.logDir,
      natives: this.natives,
      attributeUncaughtErrors: this.attributeUncaughtErrors,
      tracker: this.pids,
      onLine: (workerId, stream, line, pid) => this.emit('output', { workerId, stream, line, pid }),
    });
    const logger = this.logger.child({ worker: config.id });
    const restart = config.restart ?? DEFAULT_RESTART_POLICY;
    const hc = config.health_check;
    const controller = new WorkerController({
      id: config.id,
      type: config.type,
      runtime,
      logger,
      emit: (name, event) => this.publish(name, event),
      startTimeoutMs: config.start_timeout,
      stopTimeoutMs: config.stop_timeout,
      stopSignal: config.stop_signal as NodeJS.Signals,
      restart,
      ...(hc === undefined
        ? {}
        : {
            healthCheck: {
              type: hc.type,
              intervalMs: hc.interval,
              timeoutMs: hc.timeout,
              failureThreshold: hc.failure_threshold,
              ...(hc.type === 'http' ? { url: hc.url } : {}),
              ...(hc.type === 'tcp' ? { host: hc.host, port: hc.port } : {}),
            },
          }),
    });
    this.entries.set(config.id, { config, controller, runtime });
    this.logger.info({ worker: config.id, type: config.type, runtime: runtime.kind }, 'worker added');
    this.emit('added', { workerId: config.id, type: config.type });
  }

  /** Remove a worker that is not running (stop it first). */
  removeWorker(id: string): void {
    const entry = this.entry(id);
    const allowed: readonly WorkerState[] = OPERATIONS.remove;
    if (!allowed.includes(entry.controller.state)) {
      throw hsuError('WORKER_RUNNING', `cannot remove worker '${id}' while it is ${entry.controller.state}; stop it first`, { worker_id: id, state: entry.controller.state });
    }
    this.entries.delete(id);
    void releaseRuntime(entry.runtime, this.logger);
    this.logger.info({ worker: id }, 'worker removed');
    this.emit('removed', { workerId: id });
  }

  startWorker(id: string): Promise<void> {
    this.assertOpen();
    return this.entry(id).controller.start();
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

  getWorkerStateWithDiagnostics(id: string): Record<string, unknown> {
    const entry = this.entry(id);
    return { ...entry.controller.diagnostics(), enabled: entry.config.enabled };
  }

  getAllWorkerStatesWithDiagnostics(): Record<string, Record<string, unknown>> {
    const out: Record<string, Record<string, unknown>> = {};
    for (const [id, entry] of this.entries) out[id] = { ...entry.controller.diagnostics(), enabled: entry.config.enabled };
    return out;
  }

  getWorkerHealth(id: string): Promise<HealthSnapshot> {
    return this.entry(id).controller.checkHealth();
  }

  /** Worker ids in config order. */
  listWorkers(): string[] {
    return [...this.entries.keys()];
  }

  /** Call a module action wherever the module runs: function call, postMessage or IPC. */
  call(id: string, action: string, input?: unknown, options?: CallOptions): Promise<unknown> {
    const entry = this.entries.get(id);
    if (entry === undefined) return Promise.reject(this.notFound(id));
    return entry.controller.call(action, input, options);
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

  /** Start every enabled worker in config order. A failing worker does not stop the others. */
  async start(): Promise<StartResult[]> {
    this.assertOpen();
    const results: StartResult[] = [];
    for (const [id, entry] of this.entries) {
      if (this.shuttingDown !== undefined) break; // a signal arrived mid-start: launch nothing more
      if (!entry.config.enabled || !(OPERATIONS.start as readonly WorkerState[]).includes(entry.controller.state)) continue;
      try {
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

  /**
   * Stop every worker in reverse config order. After `shutdownTimeoutMs` (or at once with
   * `force`, also for a shutdown already under way) the rest are force-stopped together; resolves
   * when nothing runs. Idempotent.
   */
  shutdown(options: { force?: boolean } = {}): Promise<void> {
    this.shuttingDown ??= this.doShutdown();
    if (options.force === true) this.forceShutdown?.('forced shutdown requested');
    return this.shuttingDown;
  }

  private async doShutdown(): Promise<void> {
    const started = Date.now();
    const order = [...this.entries.values()].reverse();
    // First, before any await: a restart half-way through must not launch behind our back.
    for (const { controller } of order) controller.close();
    let forcing = false;
    // Force-stopped workers end as requested stops, so nothing is restarted on the way out.
    this.forceShutdown = (why) => {
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
    // Nothing can start after shutdown: the workers' log files can be closed.
    await Promise.all(order.map(({ runtime }) => releaseRuntime(runtime, this.logger)));
    this.pids?.clear();
    this.logger.info({ duration_ms: Date.now() - started, forced: forcing }, 'shutdown complete');
  }

  private publish(name: keyof MasterEvents, event: unknown): void {
    if (name === 'state') {
      const e = event as MasterEvents['state'][0];
      const level = e.to === 'failed' || e.to === 'failed_start' ? 'error' : e.to === 'waiting_restart' ? 'warn' : 'info';
      this.logger[level]({ worker: e.workerId, from: e.from, to: e.to, pid: e.pid ?? null, ...(e.reason === undefined ? {} : { reason: e.reason }) }, 'state');
    } else if (name === 'restart') {
      const e = event as MasterEvents['restart'][0];
      this.logger.info({ worker: e.workerId, cause: e.cause, attempt: e.attempt, delay_ms: e.delayMs }, 'restart scheduled');
    }
    // A firewall: publishing runs inside the state machine, so a subscriber that throws (metrics,
    // dashboard, user code) must neither abort a transition nor stop the other subscribers.
    for (const listener of this.rawListeners(name) as ((e: unknown) => void)[]) {
      try {
        listener.call(this, event);
      } catch (err) {
        this.logger.error({ err, event: name }, 'an event listener threw; ignored');
      }
    }
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

/**
 * Last line of defence: however this process ends, no process worker outlives it. 'exit' covers
 * normal ends and uncaught exceptions; a default-action signal (SIGTERM from `kill`, SIGHUP when the
 * terminal closes) runs no 'exit' hook, so those are caught too, but only while nobody else listens
 * (then the application decides): kill the groups, then re-raise the signal for its default action.
 */
function installLastResortHooks(): void {
  process.on('exit', killAllProcessGroupsSync);
  for (const signal of ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGQUIT'] as const) {
    const onSignal = (): void => {
      if (process.listenerCount(signal) > 1) return;
      killAllProcessGroupsSync();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

async function stopQuietly(controller: WorkerController, force: boolean): Promise<void> {
  const state = controller.state;
  if (state !== 'stopping' && !(OPERATIONS.stop as readonly WorkerState[]).includes(state)) return;
  await controller.stop({ force }).catch(() => undefined);
}
