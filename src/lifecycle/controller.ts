/**
 * The one lifecycle. A controller drives any runtime through the same state machine, restart
 * policy, health loop and diagnostics; there is deliberately no per-type controller (the Go
 * original kept two state machines that drifted apart).
 */
import type { Logger } from 'pino';
import { hsuError, serializeError, type SerializedError } from '../errors.js';
import type { CallOptions, WorkerEndpoint } from '../worker/index.js';
import type { ExitInfo, Instance, Runtime } from '../runtimes/types.js';
import type { ControllerEmit } from './events.js';
import { HealthMonitor, type HealthCheckOptions, type HealthSnapshot } from './health-monitor.js';
import { RestartTracker, type RestartPolicy } from './restart-policy.js';
import { assertOperation, assertTransition, type WorkerState } from './states.js';

type LaunchOutcome = 'running' | 'failed' | 'cancelled';

export interface ControllerOptions {
  readonly id: string;
  readonly type: 'process' | 'module';
  readonly runtime: Runtime;
  readonly logger: Logger;
  readonly emit: ControllerEmit;
  readonly startTimeoutMs: number;
  readonly stopTimeoutMs: number;
  readonly stopSignal: NodeJS.Signals;
  readonly restart: RestartPolicy;
  readonly healthCheck?: HealthCheckOptions;
  readonly historyLimit?: number;
}

export interface TransitionRecord {
  readonly from: WorkerState;
  readonly to: WorkerState;
  readonly at: string;
  readonly reason?: string;
}

export interface LastError extends SerializedError {
  readonly at: string;
}

export class WorkerController {
  private current: WorkerState = 'idle';
  private instance: Instance | undefined;
  private startedAt: number | undefined;
  private lastError: LastError | undefined;
  private lastExit: ExitInfo | undefined;
  private restartCount = 0;
  private readonly history: TransitionRecord[] = [];
  private readonly tracker: RestartTracker;
  private readonly health: HealthMonitor;
  private restartTimer: NodeJS.Timeout | undefined;
  private launchAbort: AbortController | undefined;
  private launching: Promise<LaunchOutcome> | undefined;
  private launchSettled: Promise<void> | undefined;
  /** Set when the health loop ends an instance: its exit counts as a failure, not a requested stop. */
  private endingUnhealthy: string | undefined;
  private stopped: Promise<void> | undefined;
  private endedPid: number | undefined;
  /** Ends doStop's bounded wait for a cancelled launch (a forced stop does not wait). */
  private cutLaunchWait: (() => void) | undefined;
  private closed = false;

  constructor(private readonly options: ControllerOptions) {
    this.tracker = new RestartTracker(options.restart);
    this.health = new HealthMonitor(options.id, options.healthCheck, {
      check: () => this.instance?.health?.() ?? Promise.resolve(this.instance !== undefined),
      emit: options.emit,
      onUnhealthy: (reason) => this.endUnhealthy(reason),
    });
  }

  get id(): string {
    return this.options.id;
  }

  get state(): WorkerState {
    return this.current;
  }

  get pid(): number | undefined {
    return this.instance?.pid;
  }

  /**
   * The master is shutting down: nothing launches any more (a restart half-way through, a backoff
   * timer), while stop() keeps working.
   */
  close(): void {
    this.closed = true;
  }

  /** Manual start: allowed from idle, stopped, failed_start and failed; resolves when running. */
  async start(): Promise<void> {
    if (this.closed) throw hsuError('MASTER_SHUT_DOWN', `worker '${this.id}' cannot start: the master is shutting down`, { worker_id: this.id });
    assertOperation(this.id, 'start', this.current);
    this.tracker.reset();
    // Judged by this launch's outcome, not by the state, which an immediate crash may already have moved on.
    const outcome = await this.launch(0);
    if (outcome === 'failed') throw this.lastErrorAsError();
    if (outcome === 'cancelled') throw hsuError('START_CANCELLED', `worker '${this.id}': start cancelled by a stop`, { worker_id: this.id });
  }

  /** Stops whatever runs (or cancels a pending restart); resolves once the worker is stopped. */
  async stop(options: { force?: boolean } = {}): Promise<void> {
    if (this.current === 'stopping' && this.stopped !== undefined) {
      // A second, forced stop escalates the one in progress (e.g. the shutdown deadline passed).
      if (options.force === true) {
        void this.instance?.stop({ timeoutMs: 0, signal: 'SIGKILL', force: true });
        this.cutLaunchWait?.();
      }
      return this.stopped;
    }
    assertOperation(this.id, 'stop', this.current);
    this.stopped = this.doStop(options.force === true).finally(() => (this.stopped = undefined));
    return this.stopped;
  }

  async restart(options: { force?: boolean } = {}): Promise<void> {
    if (this.current === 'starting' || this.current === 'running' || this.current === 'waiting_restart' || this.current === 'stopping') {
      await this.stop(options);
    }
    this.options.emit('restart', { workerId: this.id, cause: 'manual', attempt: 0, delayMs: 0 });
    await this.start();
  }

  call(action: string, input: unknown, options?: CallOptions): Promise<unknown> {
    const instance = this.instance;
    if (this.current !== 'running' || instance === undefined) {
      return Promise.reject(
        hsuError('CALL_NOT_RUNNING', `worker '${this.id}' is ${this.current}; calls need it running`, { worker_id: this.id, state: this.current, action }),
      );
    }
    if (instance.call === undefined) {
      return Promise.reject(hsuError('CALL_UNSUPPORTED', `worker '${this.id}' is a plain process and has no actions`, { worker_id: this.id, action }));
    }
    return instance.call(action, input, options);
  }

  /** Live health answer: runs the configured probe now when the worker is running. */
  async checkHealth(): Promise<HealthSnapshot> {
    if (this.current !== 'running') return { status: 'unhealthy', reason: `worker is ${this.current}`, checked_at: new Date().toISOString(), consecutive_failures: 0 };
    return this.health.checkNow();
  }

  get endpoint(): WorkerEndpoint | undefined {
    return this.current === 'running' ? this.instance?.endpoint() : undefined;
  }

  diagnostics(): Record<string, unknown> {
    const now = Date.now();
    const running = this.current === 'running' && this.startedAt !== undefined;
    return {
      id: this.id,
      type: this.options.type,
      runtime: this.options.runtime.kind,
      state: this.current,
      pid: this.instance?.pid ?? null,
      started_at: this.startedAt === undefined ? null : new Date(this.startedAt).toISOString(),
      uptime_ms: running ? now - (this.startedAt ?? now) : null,
      restart_count: this.restartCount,
      consecutive_restarts: this.tracker.restartCount,
      last_error: this.lastError ?? null,
      last_exit: this.lastExit === undefined ? null : exitView(this.lastExit),
      health: this.current === 'running' ? this.health.snapshot() : { status: 'unhealthy', reason: `worker is ${this.current}` },
      endpoint: this.endpoint ?? null,
      details: { ...this.options.runtime.describe(), ...(this.instance?.diagnostics() ?? {}) },
      history: [...this.history],
    };
  }

  // ---- internals ----------------------------------------------------------------------------

  private transition(to: WorkerState, reason?: string, error?: SerializedError): void {
    const from = this.current;
    assertTransition(this.id, from, to);
    this.current = to;
    const at = Date.now();
    this.history.push({ from, to, at: new Date(at).toISOString(), ...(reason === undefined ? {} : { reason }) });
    if (this.history.length > (this.options.historyLimit ?? 50)) this.history.shift();
    this.options.emit('state', { workerId: this.id, from, to, pid: this.instance?.pid ?? this.endedPid, at, ...(reason === undefined ? {} : { reason }), ...(error === undefined ? {} : { error }) });
  }

  private launch(attempt: number): Promise<LaunchOutcome> {
    this.launching = this.doLaunch(attempt).finally(() => (this.launching = undefined));
    return this.launching;
  }

  private async doLaunch(attempt: number): Promise<LaunchOutcome> {
    this.transition('starting', attempt === 0 ? 'start requested' : `restart attempt ${attempt}`);
    const abort = new AbortController();
    this.launchAbort = abort;
    const timer = setTimeout(() => {
      abort.abort(hsuError('START_TIMEOUT', `worker '${this.id}' did not start within ${this.options.startTimeoutMs} ms`, { worker_id: this.id, timeout_ms: this.options.startTimeoutMs }));
    }, this.options.startTimeoutMs);
    let instance: Instance;
    try {
      const launched = this.options.runtime.launch({ signal: abort.signal, logger: this.options.logger, attempt });
      // Settles once the runtime has finished with this launch, including ending what it produced too late.
      this.launchSettled = launched
        .then(
          (late) => (abort.signal.aborted ? late.stop({ timeoutMs: 0, signal: 'SIGKILL', force: true }) : undefined),
          () => undefined,
        )
        .catch(() => undefined); // nobody may be waiting for it: it must never reject
      instance = await raceAbort(launched, abort.signal);
    } catch (error) {
      clearTimeout(timer);
      this.launchAbort = undefined;
      if (this.current === 'stopping') return 'cancelled'; // a stop arrived mid-start; doStop finishes the job
      this.recordError(error);
      this.transition('failed_start', this.lastError?.message, this.lastError);
      if (attempt > 0) this.afterFailure({ requested: false, exitCode: null, signal: null, forced: false, at: Date.now(), ...(this.lastError ? { error: this.lastError } : {}) }, 0);
      return 'failed';
    }
    clearTimeout(timer);
    this.launchAbort = undefined;
    this.instance = instance;
    this.startedAt = Date.now();
    instance.exited.then((exit) => this.onExit(instance, exit)).catch((err: unknown) => this.options.logger.error({ err }, 'exit handling failed'));
    if (this.current === 'stopping') return 'cancelled'; // doStop will stop this instance
    this.transition('running', undefined);
    this.health.begin();
    return 'running';
  }

  private async doStop(force: boolean): Promise<void> {
    if (this.current === 'waiting_restart') {
      clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
      this.transition('stopped', 'stop requested during backoff');
      return;
    }
    const wasStarting = this.current === 'starting';
    this.transition('stopping', force ? 'forced stop requested' : 'stop requested');
    this.health.end();
    if (wasStarting) {
      this.launchAbort?.abort(hsuError('START_FAILED', `worker '${this.id}': start cancelled by stop`, { worker_id: this.id }));
      await this.launching;
      // We stopped waiting for the launch at once; the runtime may still be ending what it started
      // (a child between spawn() and 'spawn'). Nothing may outlive 'stopped', so wait, bounded.
      // A forced stop waits at most a moment; a later forced stop ends the wait at once.
      await settledWithin(this.launchSettled, force ? Math.min(this.options.stopTimeoutMs, FORCED_LAUNCH_WAIT_MS) : this.options.stopTimeoutMs, (cut) => (this.cutLaunchWait = cut));
      this.cutLaunchWait = undefined;
    }
    const instance = this.instance;
    if (instance === undefined) {
      this.transition('stopped', 'start cancelled');
      return;
    }
    await instance.stop({ timeoutMs: this.options.stopTimeoutMs, signal: this.options.stopSignal, force });
    const exit = await instance.exited;
    // onExit runs from the same promise; make sure the transition happened before we resolve.
    if (this.current === 'stopping') this.onExit(instance, exit);
  }

  private onExit(instance: Instance, exit: ExitInfo): void {
    if (this.instance !== instance) return;
    this.instance = undefined;
    // The transitions this exit causes still name the pid that ended (the log line per transition does).
    this.endedPid = instance.pid;
    try {
      this.handleExit(instance, exit);
    } finally {
      this.endedPid = undefined;
    }
  }

  private handleExit(instance: Instance, exit: ExitInfo): void {
    this.health.end();
    const ranForMs = Date.now() - (this.startedAt ?? Date.now());
    let effective = exit;
    if (this.endingUnhealthy !== undefined) {
      const reason = this.endingUnhealthy;
      this.endingUnhealthy = undefined;
      effective = { ...exit, requested: false, error: serializeError(hsuError('HEALTH_CHECK_FAILED', `worker '${this.id}': ${reason}`, { worker_id: this.id })) };
    }
    this.lastExit = effective;
    this.options.emit('exit', { workerId: this.id, pid: instance.pid, exit: effective, ranForMs });
    if (this.current === 'stopping') {
      if (effective.error !== undefined) this.recordError(effective.error);
      this.transition('stopped', describeExit(effective));
      return;
    }
    this.afterFailure(effective, ranForMs);
  }

  /** An instance ended on its own (or a restart attempt failed to start): ask the policy. */
  private afterFailure(exit: ExitInfo, ranForMs: number): void {
    if (exit.error !== undefined) this.recordError(exit.error);
    const decision = this.tracker.decide(exit, ranForMs);
    const why = describeExit(exit);
    if (decision.action === 'none') {
      this.transition('stopped', `${why}; ${decision.reason}`);
      return;
    }
    if (decision.action === 'give_up') {
      this.transition('failed', `${why}; ${decision.reason}`, this.lastError);
      return;
    }
    this.restartCount += 1;
    this.transition('waiting_restart', `${why}; restart in ${decision.delayMs} ms`);
    this.options.emit('restart', { workerId: this.id, cause: exit.error?.code === 'HSU_ERR_HEALTH_CHECK_FAILED' ? 'unhealthy' : 'policy', attempt: decision.attempt, delayMs: decision.delayMs });
    const relaunch = (): void => {
      this.restartTimer = undefined;
      if (this.current === 'waiting_restart' && !this.closed) this.launch(decision.attempt).catch((err: unknown) => this.options.logger.error({ err }, 'restart failed'));
    };
    // An immediate restart skips the timer queue: a crashed worker is back one loop turn sooner.
    if (decision.delayMs === 0) queueMicrotask(relaunch);
    else this.restartTimer = setTimeout(relaunch, decision.delayMs);
  }

  private endUnhealthy(reason: string): void {
    const instance = this.instance;
    if (this.current !== 'running' || instance === undefined) return;
    this.endingUnhealthy = reason;
    this.options.logger.warn({ worker: this.id, reason }, 'health check failed repeatedly; restarting worker');
    void instance.stop({ timeoutMs: this.options.stopTimeoutMs, signal: this.options.stopSignal, force: false });
  }

  private recordError(error: unknown): void {
    const serialized = isSerialized(error) ? error : serializeError(error);
    this.lastError = { code: serialized.code, message: serialized.message, at: new Date().toISOString(), ...(serialized.stack ? { stack: serialized.stack } : {}), ...(serialized.context ? { context: serialized.context } : {}) };
  }

  private lastErrorAsError(): Error {
    const e = hsuError('START_FAILED', this.lastError?.message ?? 'start failed', { worker_id: this.id });
    if (this.lastError !== undefined) Object.assign(e, { code: this.lastError.code, context: this.lastError.context ?? { worker_id: this.id } });
    return e;
  }
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        // Too late (we gave up on this launch): the caller's launchSettled ends the instance.
        if (!signal.aborted) resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** Waits for `promise` (which never rejects) at most `ms`. */
/** How long a forced stop still waits for a cancelled launch to end what it had started. */
const FORCED_LAUNCH_WAIT_MS = 1_000;

async function settledWithin(promise: Promise<void> | undefined, ms: number, onCut?: (cut: () => void) => void): Promise<void> {
  if (promise === undefined) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      onCut?.(resolve);
    }),
  ]);
  clearTimeout(timer);
}

function isSerialized(value: unknown): value is SerializedError {
  return typeof value === 'object' && value !== null && !(value instanceof Error) && typeof (value as SerializedError).code === 'string' && typeof (value as SerializedError).message === 'string';
}

function exitView(exit: ExitInfo): Record<string, unknown> {
  return { requested: exit.requested, exit_code: exit.exitCode, signal: exit.signal, forced: exit.forced, at: new Date(exit.at).toISOString(), error: exit.error ?? null };
}

function describeExit(exit: ExitInfo): string {
  if (exit.error !== undefined) return exit.error.message;
  if (exit.signal !== null) return `killed by ${exit.signal}${exit.forced ? ' (forced)' : ''}`;
  if (exit.exitCode !== null) return `exited with code ${exit.exitCode}`;
  return exit.requested ? 'stopped' : 'ended';
}
