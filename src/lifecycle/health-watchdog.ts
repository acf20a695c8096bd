/**
 * The periodic health loop of one worker, as a watchdog. It only counts: the probe decides ok or
 * not ok; `failure_threshold` consecutive failures make the worker unhealthy and ask the controller
 * for a restart (by policy, like any crash); `success_threshold` consecutive successes make it
 * healthy again. Probes never overlap, each is bounded by the timeout through an AbortSignal, and
 * `end()` aborts the one in flight, so no timer or socket outlives the instance.
 */
import type { HealthCheckConfig } from '../config/index.js';
import { probeTimeoutReason, type Probe, type ProbeResult } from '../health/probe.js';
import type { ControllerEmit } from './events.js';
import type { Instance } from './runtime.js';
import type { Watchdog, WatchdogControl } from './watchdog.js';

export type HealthStatus = 'healthy' | 'unhealthy' | 'unknown';

export interface HealthSnapshot {
  readonly status: HealthStatus;
  readonly reason?: string;
  /** ISO time of the last probe, or null before the first. */
  readonly checked_at: string | null;
  readonly latency_ms: number | null;
  readonly consecutive_failures: number;
  readonly consecutive_successes: number;
}

/** Without a `health_check` block only live queries run (the runtime's own answer), never a loop. */
const RUNTIME_ONLY: HealthCheckConfig = { type: 'runtime', interval: 0, timeout: 5000, failure_threshold: 1, success_threshold: 1, initial_delay: 0 };

const NOT_CHECKED: HealthSnapshot = { status: 'unknown', checked_at: null, latency_ms: null, consecutive_failures: 0, consecutive_successes: 0 };

export class HealthWatchdog implements Watchdog {
  readonly name = 'health';
  private readonly check: HealthCheckConfig;
  private probe: Probe | undefined;
  private control: WatchdogControl | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: AbortController | undefined;
  private generation = 0;
  private last: HealthSnapshot = NOT_CHECKED;

  constructor(
    private readonly workerId: string,
    check: HealthCheckConfig | undefined,
    private readonly createProbe: (check: HealthCheckConfig, instance: Instance) => Probe,
    private readonly emit: ControllerEmit,
  ) {
    this.check = check ?? RUNTIME_ONLY;
  }

  get periodic(): boolean {
    return this.check.interval > 0;
  }

  begin(instance: Instance, control: WatchdogControl): void {
    this.end();
    this.probe = this.createProbe(this.check, instance);
    this.control = control;
    this.last = NOT_CHECKED;
    if (this.periodic) this.schedule(this.generation, this.check.initial_delay);
  }

  end(): void {
    this.generation += 1;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.inFlight?.abort('the instance ended');
    this.inFlight = undefined;
    this.probe = undefined;
    this.control = undefined;
  }

  snapshot(): HealthSnapshot {
    return this.last;
  }

  /**
   * Probe now, for an operator or a dashboard. Reported (diagnostics show the latest answer) but
   * never counted: asking for health must never restart a worker.
   */
  async checkNow(): Promise<HealthSnapshot> {
    const probe = this.probe;
    if (probe === undefined) return { ...NOT_CHECKED, status: 'unhealthy', reason: 'worker is not running' };
    const generation = this.generation;
    const { result, latency } = await this.runProbe(probe, false);
    if (generation !== this.generation) return { ...NOT_CHECKED, status: 'unhealthy', reason: 'the instance ended during the check' };
    // The answer is shown as it is; only the periodic loop's counts (and thresholds) are kept.
    const { reason: _previous, ...counts } = this.last;
    this.last = { ...counts, status: result.ok ? 'healthy' : 'unhealthy', checked_at: new Date().toISOString(), latency_ms: latency, ...reasonOf(result) };
    return this.last;
  }

  private schedule(generation: number, delayMs: number): void {
    this.timer = setTimeout(() => void this.tick(generation), delayMs);
  }

  private async tick(generation: number): Promise<void> {
    this.timer = undefined;
    const probe = this.probe;
    if (probe === undefined || generation !== this.generation) return;
    const { result, latency } = await this.runProbe(probe, true);
    if (generation !== this.generation) return; // the instance ended meanwhile
    this.count(result, latency);
    if (generation === this.generation && this.last.status !== 'unhealthy') this.schedule(generation, this.check.interval);
  }

  private count(result: ProbeResult, latency: number): void {
    const before = this.last;
    const failures = result.ok ? 0 : before.consecutive_failures + 1;
    const successes = result.ok ? before.consecutive_successes + 1 : 0;
    let status = before.status;
    if (!result.ok && failures >= this.check.failure_threshold) status = 'unhealthy';
    if (result.ok && successes >= this.check.success_threshold) status = 'healthy';
    this.last = {
      status,
      checked_at: new Date().toISOString(),
      latency_ms: latency,
      consecutive_failures: failures,
      consecutive_successes: successes,
      ...reasonOf(result),
    };
    if (status !== before.status && status !== 'unknown') {
      this.emit('health', {
        worker_id: this.workerId,
        status,
        consecutive_failures: failures,
        consecutive_successes: successes,
        latency_ms: latency,
        ...reasonOf(result),
      });
    }
    if (status === 'unhealthy') {
      this.control?.request('restart', 'unhealthy', `${failures} consecutive health check failures (${result.reason ?? 'unhealthy'})`);
    }
  }

  /** Runs one probe bounded by the timeout; the periodic one can be aborted by end(). */
  private async runProbe(probe: Probe, periodic: boolean): Promise<{ result: ProbeResult; latency: number }> {
    const controller = new AbortController();
    if (periodic) this.inFlight = controller;
    const timeoutMs = this.check.timeout;
    const timer = setTimeout(() => controller.abort(probeTimeoutReason(timeoutMs)), timeoutMs);
    const started = performance.now();
    try {
      const aborted = new Promise<ProbeResult>((resolve) => {
        controller.signal.addEventListener('abort', () => resolve({ ok: false, reason: `health check ${String(controller.signal.reason)}` }), { once: true });
      });
      const result = await Promise.race([probe(controller.signal), aborted]);
      return { result, latency: Math.round(performance.now() - started) };
    } finally {
      clearTimeout(timer);
      controller.abort('done'); // releases the race's listener and anything the probe left open
      if (this.inFlight === controller) this.inFlight = undefined;
    }
  }
}

function reasonOf(result: ProbeResult): { reason?: string } {
  return result.reason === undefined ? {} : { reason: result.reason };
}
