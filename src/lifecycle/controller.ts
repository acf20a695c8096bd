/**
 * The one lifecycle. A controller drives any runtime through the same state machine, restart
 * policy, watchdogs and diagnostics; there is deliberately no per-type controller (the Go original
 * kept two state machines that drifted apart).
 *
 * Concurrency model: every change of state happens inside `step()`, one step at a time. Async work
 * (a launch, a stop, a timer) never changes state itself; when it completes it schedules a step,
 * which re-checks where the worker is before doing anything (a launch the controller gave up on,
 * an exit of an instance that is no longer current, a timer of a restart that was cancelled).
 * Events go to an asynchronous bus, so no subscriber can re-enter a step.
 */
import type { Logger } from 'pino';
import { deserializeError, hsuError, serializeError, type ErrorCodeKey, type SerializedError } from '../errors.js';
import type { CallOptions, WorkerEndpoint } from '../worker/index.js';
import { describeExit, exitView, type LastError, type TransitionRecord, type WorkerDiagnostics } from './diagnostics.js';
import type { ControllerEmit, RestartCause } from './events.js';
import type { HealthSnapshot, HealthWatchdog } from './health-watchdog.js';
import type { Readiness } from './readiness.js';
import { RestartTracker, type RestartPolicy } from './restart-policy.js';
import type { ExitInfo, Instance, Runtime, StopCause } from './runtime.js';
import { assertOperation, assertTransition, type WorkerState } from './states.js';
import type { Watchdog, WatchdogAction, WatchdogControl } from './watchdog.js';

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
  readonly health: HealthWatchdog;
  /** More watchdogs (resource limits, schedules); each may ask for a stop or restart with a cause. */
  readonly watchdogs?: readonly Watchdog[];
  /** Polled after the runtime launched an instance: the worker is running only once it passes. */
  readonly readiness?: Readiness;
  readonly enabled?: () => boolean;
  readonly historyLimit?: number;
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

interface Launch {
  readonly attempt: number;
  readonly abort: AbortController;
  timer: NodeJS.Timeout | undefined;
  waiter: Waiter | undefined;
  /** The controller gave up on it (timeout or stop): whatever it produces is ended, not adopted. */
  abandoned: boolean;
  timedOut: boolean;
  /** What the launch job failed with, when it failed after being abandoned (a readiness reason, say). */
  failure: unknown;
  /** Settles once the runtime is done with this launch, including ending an instance produced too late. */
  readonly settled: Promise<void>;
  markSettled(): void;
  /** Ends the bounded wait for an abandoned launch early (a forced stop). */
  cutWait: (() => void) | undefined;
}

interface StopInProgress {
  readonly cause: StopCause;
  /** A shutdown: instances that outlive the master (unmanaged) may be let go instead. */
  readonly detach: boolean;
  /** When the instance is gone: stay stopped, let the restart policy decide (a watchdog's restart), or start afresh (a schedule). */
  after: 'stopped' | 'policy' | 'start';
  force: boolean;
  /** Recorded as the worker's failure when a watchdog ended it. */
  readonly error: SerializedError | undefined;
  readonly done: Promise<void>;
  readonly resolve: () => void;
}

/** How long a forced stop still waits for a cancelled launch to end what it had started. */
const FORCED_LAUNCH_WAIT_MS = 1_000;

const CAUSE_ERROR: Record<Exclude<StopCause, 'requested' | 'schedule'>, ErrorCodeKey> = {
  unhealthy: 'HEALTH_CHECK_FAILED',
  limit: 'LIMIT_EXCEEDED',
  fatal: 'MODULE_FATAL',
};

export class WorkerController {
  private current: WorkerState = 'idle';
  private instance: Instance | undefined;
  /** Resources of the last instance; the next launch waits for them (a port, a file lock). */
  private released: Promise<void> = Promise.resolve();
  private startedAt: number | undefined;
  private lastError: LastError | undefined;
  private lastExit: ExitInfo | undefined;
  private stopCause: StopCause | undefined;
  private restartCount = 0;
  private readonly history: TransitionRecord[] = [];
  private readonly tracker: RestartTracker;
  private readonly watchdogs: readonly Watchdog[];
  private launch: Launch | undefined;
  private stopping: StopInProgress | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private restartToken = 0;
  /** The pid the transitions of an exit still name. */
  private endedPid: number | undefined;
  private closed = false;
  private inStep = false;
  private readonly queued: (() => void)[] = [];

  constructor(private readonly options: ControllerOptions) {
    this.tracker = new RestartTracker(options.restart);
    this.watchdogs = [options.health, ...(options.watchdogs ?? [])];
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

  get endpoint(): WorkerEndpoint | undefined {
    return this.current === 'running' ? this.instance?.endpoint() : undefined;
  }

  /** The master is shutting down: nothing launches any more (a backoff timer, a restart), while stop() keeps working. */
  close(): void {
    this.closed = true;
  }

  /** Manual start: allowed from idle, stopped, failed_start and failed; resolves when running. */
  start(): Promise<void> {
    if (this.closed) return Promise.reject(hsuError('MASTER_SHUT_DOWN', `worker '${this.id}' cannot start: the master is shutting down`, { worker_id: this.id }));
    try {
      assertOperation(this.id, 'start', this.current);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    this.tracker.reset();
    return new Promise((resolve, reject) => this.step(() => this.beginLaunch(0, { resolve, reject })));
  }

  /**
   * Supervises an instance a previous master left running, through the same steps as a start
   * (idle -> starting -> running); `make` produces it. No readiness wait: it is already serving.
   */
  adopt(make: () => Promise<Instance>): Promise<void> {
    if (this.current !== 'idle') return Promise.reject(hsuError('ILLEGAL_TRANSITION', `worker '${this.id}' can only adopt while idle (it is ${this.current})`, { worker_id: this.id, state: this.current }));
    return new Promise((resolve, reject) => this.step(() => this.beginLaunch(0, { resolve, reject }, make)));
  }

  /**
   * Stops whatever runs (or cancels a pending restart); resolves once the worker is stopped.
   * `detach`: the master is shutting down, and a worker the master may not stop is let go.
   * `reason`: what the `stopping` transition says (default "stop requested"), e.g. which files a watch saw change.
   */
  stop(options: { force?: boolean; detach?: boolean; reason?: string } = {}): Promise<void> {
    const force = options.force === true;
    const detach = options.detach === true;
    if (!detach && this.current === 'running' && !this.options.runtime.capabilities.stoppable) {
      return Promise.reject(hsuError('STOP_NOT_ALLOWED', `worker '${this.id}' may not be stopped by the master (unmanaged, allow_stop: false)`, { worker_id: this.id }));
    }
    const underway = this.stopping;
    if (underway !== undefined) {
      // An operator's stop wins over a watchdog's restart, and a forced one escalates.
      underway.after = 'stopped';
      if (force && !underway.force) this.step(() => this.escalate());
      return underway.done;
    }
    try {
      assertOperation(this.id, 'stop', this.current);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const stop = newStop('requested', 'stopped', force, undefined, detach);
    this.step(() => this.beginStop(stop, options.reason ?? (force ? 'forced stop requested' : 'stop requested')));
    return stop.done;
  }

  async restart(options: { force?: boolean; reason?: string } = {}): Promise<void> {
    if (this.current === 'starting' || this.current === 'running' || this.current === 'waiting_restart' || this.current === 'stopping') {
      await this.stop(options);
    }
    this.options.emit('restart', { worker_id: this.id, cause: 'manual', attempt: 0, delay_ms: 0 });
    await this.start();
  }

  call(action: string, input: unknown, options?: CallOptions): Promise<unknown> {
    const instance = this.instance;
    if (this.current !== 'running' || instance === undefined) {
      return Promise.reject(hsuError('CALL_NOT_RUNNING', `worker '${this.id}' is ${this.current}; calls need it running`, { worker_id: this.id, state: this.current, action }));
    }
    if (instance.call === undefined) {
      return Promise.reject(hsuError('CALL_UNSUPPORTED', `worker '${this.id}' is a plain process and has no actions`, { worker_id: this.id, action }));
    }
    return instance.call(action, input, options);
  }

  /** Live health answer: runs the configured probe now when the worker is running; never counted. */
  async checkHealth(): Promise<HealthSnapshot> {
    if (this.current !== 'running') return { status: 'unhealthy', reason: `worker is ${this.current}`, checked_at: new Date().toISOString(), latency_ms: null, consecutive_failures: 0, consecutive_successes: 0 };
    return this.options.health.checkNow();
  }

  diagnostics(): WorkerDiagnostics {
    const now = Date.now();
    const running = this.current === 'running' && this.startedAt !== undefined;
    const watchdogs: Record<string, object> = {};
    for (const watchdog of this.watchdogs) watchdogs[watchdog.name] = watchdog.snapshot();
    return {
      id: this.id,
      type: this.options.type,
      runtime: this.options.runtime.kind,
      state: this.current,
      enabled: this.options.enabled?.() ?? true,
      pid: this.instance?.pid ?? null,
      started_at: this.startedAt === undefined ? null : new Date(this.startedAt).toISOString(),
      uptime_ms: running ? now - (this.startedAt ?? now) : null,
      restart_count: this.restartCount,
      consecutive_restarts: this.tracker.restartCount,
      last_error: this.lastError ?? null,
      last_exit: this.lastExit === undefined ? null : exitView(this.lastExit),
      stop_cause: this.stopCause ?? null,
      health: this.current === 'running' ? this.options.health.snapshot() : { status: 'unhealthy', reason: `worker is ${this.current}`, checked_at: null, latency_ms: null, consecutive_failures: 0, consecutive_successes: 0 },
      endpoint: this.endpoint ?? null,
      details: { ...this.options.runtime.describe(), ...(this.instance?.diagnostics() ?? {}) },
      watchdogs,
      history: [...this.history],
    };
  }

  // ---- the step discipline ------------------------------------------------------------------

  /** Runs `fn` as the only change in progress; a step requested from inside one runs right after it. */
  private step(fn: () => void): void {
    if (this.inStep) {
      this.queued.push(fn);
      return;
    }
    this.inStep = true;
    try {
      this.guarded(fn);
      for (let next = this.queued.shift(); next !== undefined; next = this.queued.shift()) this.guarded(next);
    } finally {
      this.inStep = false;
    }
  }

  private guarded(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.breach(error);
    }
  }

  /**
   * A broken invariant (an illegal transition, a runtime that throws where it must not) must never
   * leave a worker stuck: everything this controller owns is ended, and the worker becomes failed,
   * with an event. This one move bypasses the transition table on purpose.
   */
  private breach(error: unknown): void {
    const wrapped = hsuError('INVARIANT', `worker '${this.id}': lifecycle invariant broken: ${error instanceof Error ? error.message : String(error)}`, { worker_id: this.id, state: this.current }, error);
    this.options.logger.error({ err: error, worker: this.id }, 'lifecycle invariant broken; the worker is marked failed');
    this.recordError(wrapped);
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const launch = this.launch;
    this.launch = undefined;
    if (launch !== undefined) {
      launch.abandoned = true;
      clearTimeout(launch.timer);
      launch.abort.abort(wrapped);
      launch.waiter?.reject(wrapped);
    }
    this.endWatchdogs();
    const instance = this.instance;
    this.instance = undefined;
    if (instance !== undefined) {
      this.released = instance.released;
      try {
        void instance.stop({ graceMs: 0, signal: 'SIGKILL', force: true, cause: 'fatal' }).catch(() => undefined);
      } catch {
        // the runtime is broken too; the master's last-resort hooks still end its processes
      }
    }
    const stopping = this.stopping;
    this.stopping = undefined;
    if (this.current !== 'failed') this.record('failed', wrapped.message, undefined, serializeError(wrapped));
    stopping?.resolve();
  }

  // ---- transitions --------------------------------------------------------------------------

  private transition(to: WorkerState, reason?: string, cause?: StopCause, error?: SerializedError): void {
    assertTransition(this.id, this.current, to);
    this.record(to, reason, cause, error);
  }

  private record(to: WorkerState, reason: string | undefined, cause: StopCause | undefined, error: SerializedError | undefined): void {
    const from = this.current;
    this.current = to;
    const at = Date.now();
    this.history.push({ from, to, at: new Date(at).toISOString(), ...(reason === undefined ? {} : { reason }), ...(cause === undefined ? {} : { cause }) });
    if (this.history.length > (this.options.historyLimit ?? 50)) this.history.shift();
    this.options.emit('state', {
      worker_id: this.id,
      from,
      to,
      pid: this.instance?.pid ?? this.endedPid ?? null,
      at,
      ...(reason === undefined ? {} : { reason }),
      ...(cause === undefined ? {} : { cause }),
      ...(error === undefined ? {} : { error }),
    });
  }

  // ---- launching ----------------------------------------------------------------------------

  private beginLaunch(attempt: number, waiter: Waiter | undefined, adopt?: () => Promise<Instance>): void {
    this.transition('starting', adopt !== undefined ? 'adopting a process left running' : attempt === 0 ? 'start requested' : `restart attempt ${attempt}`);
    let markSettled!: () => void;
    const launch: Launch = {
      attempt,
      abort: new AbortController(),
      timer: undefined,
      waiter,
      abandoned: false,
      timedOut: false,
      failure: undefined,
      settled: new Promise<void>((resolve) => (markSettled = resolve)),
      markSettled: () => markSettled(),
      cutWait: undefined,
    };
    this.launch = launch;
    launch.timer = setTimeout(() => this.step(() => this.onStartTimeout(launch)), this.options.startTimeoutMs);
    const previous = this.released;
    const job = (async (): Promise<Instance> => {
      // The last instance's resources (its port, its files) are gone before the next one starts.
      await boundedWait(previous, this.options.stopTimeoutMs);
      if (launch.abort.signal.aborted) throw launch.abort.signal.reason as Error;
      if (adopt !== undefined) return adopt();
      const instance = await this.options.runtime.launch({ signal: launch.abort.signal, logger: this.options.logger, attempt });
      if (this.options.readiness === undefined) return instance;
      try {
        await this.options.readiness(instance, launch.abort.signal);
      } catch (error) {
        // Not ready in time (or it died): nothing of this launch may outlive the failed start.
        await instance.stop({ graceMs: 0, signal: 'SIGKILL', force: true, cause: 'requested' }).catch(() => undefined);
        await instance.released;
        throw error;
      }
      return instance;
    })();
    job.then(
      (instance) => this.step(() => this.onLaunched(launch, instance)),
      (error: unknown) => this.step(() => this.onLaunchFailed(launch, error)),
    );
  }

  private onLaunched(launch: Launch, instance: Instance): void {
    if (this.launch !== launch || launch.abandoned) {
      // Too late: the controller gave up on this launch. End what it produced; then it is settled.
      void instance.stop({ graceMs: 0, signal: 'SIGKILL', force: true, cause: 'requested' }).catch(() => undefined);
      void instance.released.then(() => launch.markSettled());
      return;
    }
    clearTimeout(launch.timer);
    this.launch = undefined;
    launch.markSettled();
    this.instance = instance;
    this.startedAt = Date.now();
    instance.exited.then(
      (exit) => this.step(() => this.onExit(instance, exit)),
      (error: unknown) => this.step(() => this.breach(error)),
    );
    this.transition('running');
    this.beginWatchdogs(instance);
    launch.waiter?.resolve();
  }

  private onLaunchFailed(launch: Launch, error: unknown): void {
    launch.failure = error;
    launch.markSettled();
    if (this.launch !== launch || launch.abandoned) return; // the abandoned-launch wait takes it from here
    clearTimeout(launch.timer);
    this.launch = undefined;
    this.failStart(launch, error);
  }

  private failStart(launch: Launch, error: unknown): void {
    this.recordError(error);
    this.transition('failed_start', this.lastError?.message, undefined, this.lastError);
    launch.waiter?.reject(this.lastErrorAsError());
    if (launch.attempt > 0) {
      // A restart attempt that fails to start counts against the policy like a crash.
      this.afterFailure({ requested: false, exitCode: null, signal: null, forced: false, at: Date.now(), ...(this.lastError === undefined ? {} : { error: this.lastError }) }, 0, 'policy');
    }
  }

  /** The start took too long: abort it, but stay `starting` until the runtime has ended what it began. */
  private onStartTimeout(launch: Launch): void {
    if (this.launch !== launch || launch.abandoned) return;
    launch.abandoned = true;
    launch.timedOut = true;
    launch.abort.abort(hsuError('START_TIMEOUT', `worker '${this.id}' did not start within ${this.options.startTimeoutMs} ms`, { worker_id: this.id, timeout_ms: this.options.startTimeoutMs }));
    this.awaitAbandoned(launch, false);
  }

  /** Waits (bounded) for an abandoned launch to be gone, then moves on from `starting` or `stopping`. */
  private awaitAbandoned(launch: Launch, forced: boolean): void {
    if (launch.cutWait !== undefined) {
      if (forced) launch.cutWait();
      return;
    }
    const bound = forced ? Math.min(this.options.stopTimeoutMs, FORCED_LAUNCH_WAIT_MS) : this.options.stopTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const cut = new Promise<'cut'>((resolve) => {
      timer = setTimeout(() => resolve('cut'), bound);
      launch.cutWait = () => resolve('cut');
    });
    void Promise.race([launch.settled.then(() => 'settled' as const), cut]).then((how) => {
      clearTimeout(timer);
      this.step(() => this.onAbandonedGone(launch, how === 'settled'));
    });
  }

  private onAbandonedGone(launch: Launch, settled: boolean): void {
    if (this.launch !== launch) return;
    this.launch = undefined;
    clearTimeout(launch.timer);
    if (!settled) this.options.logger.error({ worker: this.id }, 'the runtime did not end an abandoned launch in time; moving on without it');
    if (this.current === 'stopping') {
      this.transition('stopped', 'start cancelled', this.stopping?.cause);
      this.finishStop();
      return;
    }
    if (this.current === 'starting' && launch.timedOut) {
      // The job's own error says more (e.g. why it was not ready) when it carries the timeout's code.
      const failure = launch.failure as { code?: string } | undefined;
      this.failStart(launch, failure?.code === 'HSU_ERR_START_TIMEOUT' ? failure : launch.abort.signal.reason);
    }
  }

  // ---- stopping -----------------------------------------------------------------------------

  private beginStop(stop: StopInProgress, reason: string): void {
    switch (this.current) {
      case 'waiting_restart':
        clearTimeout(this.restartTimer);
        this.restartTimer = undefined;
        this.restartToken += 1;
        this.stopCause = stop.cause;
        this.transition('stopped', 'stop requested during backoff', stop.cause);
        stop.resolve();
        return;
      case 'starting': {
        const launch = this.launch;
        this.stopping = stop;
        this.stopCause = stop.cause;
        this.transition('stopping', reason, stop.cause);
        if (launch === undefined) {
          this.transition('stopped', 'start cancelled', stop.cause);
          this.finishStop();
          return;
        }
        if (!launch.abandoned) {
          launch.abandoned = true;
          clearTimeout(launch.timer);
          launch.abort.abort(hsuError('START_CANCELLED', `worker '${this.id}': start cancelled by a stop`, { worker_id: this.id }));
        }
        launch.waiter?.reject(hsuError('START_CANCELLED', `worker '${this.id}': start cancelled by a stop`, { worker_id: this.id }));
        launch.waiter = undefined;
        this.awaitAbandoned(launch, stop.force);
        return;
      }
      case 'running': {
        const instance = this.instance;
        if (instance === undefined) throw new Error('running without an instance');
        this.stopping = stop;
        this.stopCause = stop.cause;
        this.transition('stopping', reason, stop.cause);
        this.endWatchdogs();
        void instance.stop({ graceMs: this.options.stopTimeoutMs, signal: this.options.stopSignal, force: stop.force, cause: stop.cause, detach: stop.detach }).catch((err: unknown) => this.options.logger.error({ err }, 'stop failed'));
        return;
      }
      default:
        // Queued behind a step that already ended the worker: nothing is left to stop.
        stop.resolve();
    }
  }

  private escalate(): void {
    const stop = this.stopping;
    if (stop === undefined || stop.force) return;
    stop.force = true;
    void this.instance?.stop({ graceMs: 0, signal: 'SIGKILL', force: true, cause: stop.cause, detach: stop.detach }).catch(() => undefined);
    if (this.launch !== undefined) this.awaitAbandoned(this.launch, true);
  }

  private finishStop(): void {
    const stop = this.stopping;
    this.stopping = undefined;
    stop?.resolve();
  }

  private onWatchdogRequest(instance: Instance, action: WatchdogAction, cause: Exclude<StopCause, 'requested'>, reason: string): void {
    if (this.instance !== instance || this.current !== 'running') return;
    if (cause === 'schedule') {
      // Not a failure: a fresh start after a graceful stop, outside the restart policy's counts.
      this.options.logger.info({ worker: this.id, cause, reason }, 'scheduled restart');
      this.beginStop(newStop(cause, 'start', false, undefined), reason);
      return;
    }
    const error = serializeError(hsuError(CAUSE_ERROR[cause], `worker '${this.id}': ${reason}`, { worker_id: this.id, cause }));
    this.options.logger.warn({ worker: this.id, cause, action, reason }, action === 'stop' ? 'stopping worker' : 'restarting worker');
    this.beginStop(newStop(cause, action === 'stop' ? 'stopped' : 'policy', action === 'kill', error), reason);
  }

  // ---- exits and restarts -------------------------------------------------------------------

  private onExit(instance: Instance, exit: ExitInfo): void {
    if (this.instance !== instance) return;
    this.instance = undefined;
    this.released = instance.released;
    this.endWatchdogs();
    // The transitions this exit causes still name the pid that ended (the log line per transition does).
    this.endedPid = instance.pid;
    try {
      const ranForMs = Date.now() - (this.startedAt ?? Date.now());
      const stop = this.stopping;
      const effective: ExitInfo = stop?.error !== undefined ? { ...exit, requested: stop.after === 'stopped', error: stop.error } : exit;
      this.lastExit = effective;
      this.options.emit('exit', { worker_id: this.id, pid: instance.pid ?? null, exit: exitView(effective), ran_for_ms: ranForMs });
      if (this.current !== 'stopping') {
        // The kernel's memory limit ending it is a limit, as a watchdog's would be.
        this.afterFailure(effective, ranForMs, effective.error?.code === 'HSU_ERR_LIMIT_EXCEEDED' ? 'limit' : 'policy');
        return;
      }
      this.stopping = undefined;
      if (stop?.after === 'policy') {
        this.afterFailure(effective, ranForMs, stop.cause === 'requested' ? 'policy' : stop.cause);
      } else if (stop?.after === 'start' && !this.closed) {
        this.transition('stopped', describeExit(effective), stop.cause);
        this.options.emit('restart', { worker_id: this.id, cause: 'schedule', attempt: 0, delay_ms: 0 });
        this.beginLaunch(0, undefined);
      } else {
        if (effective.error !== undefined) this.recordError(effective.error);
        this.transition('stopped', describeExit(effective), stop?.cause);
      }
      stop?.resolve();
    } finally {
      this.endedPid = undefined;
    }
  }

  /** An instance ended on its own, a watchdog ended it, or a restart attempt failed to start: ask the policy. */
  private afterFailure(exit: ExitInfo, ranForMs: number, cause: RestartCause): void {
    if (exit.error !== undefined) this.recordError(exit.error);
    const decision = this.tracker.decide(exit, ranForMs);
    const why = describeExit(exit);
    if (decision.action === 'none') {
      this.transition('stopped', `${why}; ${decision.reason}`);
      return;
    }
    if (decision.action === 'give_up') {
      this.transition('failed', `${why}; ${decision.reason}`, undefined, this.lastError);
      return;
    }
    this.restartCount += 1;
    this.transition('waiting_restart', `${why}; restart in ${decision.delayMs} ms`);
    this.options.emit('restart', { worker_id: this.id, cause, attempt: decision.attempt, delay_ms: decision.delayMs });
    if (this.closed) return; // the shutdown in progress stops it; nothing may be armed now
    const token = ++this.restartToken;
    const relaunch = (): void =>
      this.step(() => {
        if (token !== this.restartToken || this.current !== 'waiting_restart' || this.closed) return;
        this.restartTimer = undefined;
        this.beginLaunch(decision.attempt, undefined);
      });
    // An immediate restart skips the timer queue: a crashed worker is back one loop turn sooner.
    if (decision.delayMs === 0) queueMicrotask(relaunch);
    else this.restartTimer = setTimeout(relaunch, decision.delayMs);
  }

  // ---- watchdogs ----------------------------------------------------------------------------

  private beginWatchdogs(instance: Instance): void {
    const control: WatchdogControl = {
      logger: this.options.logger,
      request: (action, cause, reason) => this.step(() => this.onWatchdogRequest(instance, action, cause, reason)),
    };
    for (const watchdog of this.watchdogs) {
      try {
        watchdog.begin(instance, control);
      } catch (err) {
        this.options.logger.error({ err, watchdog: watchdog.name }, 'a watchdog failed to begin; the worker runs without it');
      }
    }
  }

  private endWatchdogs(): void {
    for (const watchdog of this.watchdogs) {
      try {
        watchdog.end();
      } catch (err) {
        this.options.logger.error({ err, watchdog: watchdog.name }, 'a watchdog failed to end');
      }
    }
  }

  // ---- errors -------------------------------------------------------------------------------

  private recordError(error: unknown): void {
    const serialized = isSerialized(error) ? error : serializeError(error);
    this.lastError = { ...serialized, at: new Date().toISOString() };
  }

  /** The original error of a failed start, rebuilt with its own code and status. */
  private lastErrorAsError(): Error {
    if (this.lastError === undefined) return hsuError('START_FAILED', `worker '${this.id}' failed to start`, { worker_id: this.id });
    const { at: _at, ...serialized } = this.lastError;
    return deserializeError(serialized);
  }
}

function newStop(cause: StopCause, after: StopInProgress['after'], force: boolean, error: SerializedError | undefined, detach = false): StopInProgress {
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  return { cause, after, force, error, detach, done, resolve };
}

/** Waits for `promise` (which never rejects) at most `ms`. */
async function boundedWait(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

function isSerialized(value: unknown): value is SerializedError {
  return typeof value === 'object' && value !== null && !(value instanceof Error) && typeof (value as SerializedError).code === 'string' && typeof (value as SerializedError).message === 'string';
}
