/**
 * The periodic health loop of one worker. It only counts: the probe decides ok/not ok, and after
 * `failureThreshold` consecutive failures the controller is told to end the instance, which then
 * restarts by policy like any crash.
 */
import { probeHttp, probeRuntime, probeTcp, type ProbeResult } from '../health/probes.js';
import type { ControllerEmit } from './events.js';

export interface HealthCheckOptions {
  readonly type: 'runtime' | 'http' | 'tcp';
  readonly url?: string;
  readonly host?: string;
  readonly port?: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly failureThreshold: number;
}

export interface HealthSnapshot {
  readonly status: 'healthy' | 'unhealthy' | 'unknown';
  readonly reason?: string;
  readonly checked_at: string | null;
  readonly consecutive_failures: number;
}

interface Hooks {
  readonly check: () => Promise<boolean>;
  readonly emit: ControllerEmit;
  readonly onUnhealthy: (reason: string) => void;
}

const RUNTIME_ONLY: HealthCheckOptions = { type: 'runtime', intervalMs: 0, timeoutMs: 5000, failureThreshold: 1 };

export class HealthMonitor {
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private last: HealthSnapshot = { status: 'unknown', checked_at: null, consecutive_failures: 0 };
  private generation = 0;
  private readonly options: HealthCheckOptions;

  constructor(
    private readonly workerId: string,
    options: HealthCheckOptions | undefined,
    private readonly hooks: Hooks,
  ) {
    this.options = options ?? RUNTIME_ONLY;
  }

  /** Start the loop for a new instance (no-op when no periodic check is configured). */
  begin(): void {
    this.end();
    this.failures = 0;
    this.last = { status: 'unknown', checked_at: null, consecutive_failures: 0 };
    if (this.options.intervalMs <= 0) return;
    const generation = this.generation;
    const tick = async (): Promise<void> => {
      await this.checkNow(true);
      if (generation === this.generation) this.timer = setTimeout(() => void tick(), this.options.intervalMs);
    };
    this.timer = setTimeout(() => void tick(), this.options.intervalMs);
  }

  end(): void {
    this.generation += 1;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  snapshot(): HealthSnapshot {
    return this.last;
  }

  /**
   * Probe now. Only the periodic loop (`counted`) moves the failure count and can restart the
   * worker: an operator or dashboard asking for health must never cause a restart.
   */
  async checkNow(counted = false): Promise<HealthSnapshot> {
    const generation = this.generation;
    const result = await this.probe();
    if (generation !== this.generation) return this.last; // the instance ended meanwhile
    if (!counted) {
      // Reported (diagnostics show the latest answer) but not counted.
      this.last = {
        status: result.ok ? 'healthy' : 'unhealthy',
        checked_at: new Date().toISOString(),
        consecutive_failures: this.failures,
        ...(result.reason === undefined ? {} : { reason: result.reason }),
      };
      return this.last;
    }
    const wasHealthy = this.last.status;
    this.failures = result.ok ? 0 : this.failures + 1;
    this.last = {
      status: result.ok ? 'healthy' : 'unhealthy',
      checked_at: new Date().toISOString(),
      consecutive_failures: this.failures,
      ...(result.reason === undefined ? {} : { reason: result.reason }),
    };
    if (this.last.status !== wasHealthy) {
      this.hooks.emit('health', {
        workerId: this.workerId,
        status: this.last.status === 'healthy' ? 'healthy' : 'unhealthy',
        consecutiveFailures: this.failures,
        ...(result.reason === undefined ? {} : { reason: result.reason }),
      });
    }
    if (!result.ok && this.options.intervalMs > 0 && this.failures >= this.options.failureThreshold) {
      this.end();
      this.hooks.onUnhealthy(`${this.failures} consecutive health check failures (${result.reason ?? 'unhealthy'})`);
    }
    return this.last;
  }

  private probe(): Promise<ProbeResult> {
    const { type, timeoutMs } = this.options;
    if (type === 'http' && this.options.url !== undefined) return probeHttp(this.options.url, timeoutMs);
    if (type === 'tcp' && this.options.port !== undefined) return probeTcp(this.options.host ?? '127.0.0.1', this.options.port, timeoutMs);
    return probeRuntime(this.hooks.check, timeoutMs);
  }
}
