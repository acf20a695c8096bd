/**
 * Readiness: during the start, a probe is polled (after `initial_delay`) until it has passed
 * `success_threshold` times in a row; only then is the worker `running`. The start timeout covers
 * it (the launch's signal aborts the wait), and an instance that dies while being waited for fails
 * the start at once with its own error. `failure_threshold`, when set, also fails the start at
 * once after that many consecutive failed attempts, for a probe whose "no" is an answer and not a
 * "not yet"; unset, failed attempts are retried until the start timeout.
 */
import { deserializeError, hsuError } from '../errors.js';
import { probeTimeoutReason, type Probe, type ProbeResult } from '../health/probe.js';
import type { Instance } from './runtime.js';

export interface ReadinessSettings {
  readonly interval: number;
  readonly timeout: number;
  readonly success_threshold: number;
  readonly failure_threshold?: number | undefined;
  readonly initial_delay: number;
}

export type Readiness = (instance: Instance, signal: AbortSignal) => Promise<void>;

export function pollReadiness(workerId: string, settings: ReadinessSettings, createProbe: (instance: Instance) => Probe): Readiness {
  return async (instance, signal) => {
    const probe = createProbe(instance);
    let lastReason = 'not probed yet';
    let died: Error | undefined;
    void instance.exited.then((exit) => {
      died = exit.error === undefined ? hsuError('START_FAILED', `worker '${workerId}' ended before it was ready (${exit.signal ?? `code ${exit.exitCode}`})`, { worker_id: workerId }) : deserializeError(exit.error);
    });
    let passes = 0;
    let failures = 0;
    if (settings.initial_delay > 0) await pause(settings.initial_delay, signal, instance);
    for (;;) {
      if (died !== undefined) throw died;
      if (signal.aborted) throw notReady(workerId, signal, lastReason);
      const result = await attempt(probe, settings.timeout, signal);
      if (died !== undefined) throw died;
      if (signal.aborted) throw notReady(workerId, signal, lastReason); // a probe cut by the abort proves nothing
      if (result.ok) {
        passes += 1;
        failures = 0;
        if (passes >= settings.success_threshold) return;
        lastReason = `${passes} of ${settings.success_threshold} consecutive passes`;
      } else {
        passes = 0;
        failures += 1;
        lastReason = result.reason ?? 'not ready';
        if (settings.failure_threshold !== undefined && failures >= settings.failure_threshold) {
          throw hsuError('START_FAILED', `worker '${workerId}' failed its readiness probe ${failures} times in a row: ${lastReason}`, {
            worker_id: workerId,
            readiness: lastReason,
            consecutive_failures: failures,
          });
        }
      }
      await pause(settings.interval, signal, instance);
    }
  };
}

/** One probe, bounded by `timeoutMs` and by the start's own signal. */
async function attempt(probe: Probe, timeoutMs: number, signal: AbortSignal): Promise<ProbeResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(probeTimeoutReason(timeoutMs)), timeoutMs);
  const onOuter = (): void => controller.abort(signal.reason);
  signal.addEventListener('abort', onOuter, { once: true });
  try {
    return await probe(controller.signal);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onOuter);
  }
}

function notReady(workerId: string, signal: AbortSignal, lastReason: string): Error {
  const reason: unknown = signal.reason;
  const base = reason instanceof Error ? reason.message : `worker '${workerId}': start aborted`;
  const code = (reason as { code?: string } | undefined)?.code === 'HSU_ERR_START_CANCELLED' ? 'START_CANCELLED' : 'START_TIMEOUT';
  return hsuError(code, `${base}; it was not ready: ${lastReason}`, { worker_id: workerId, readiness: lastReason });
}

/** Waits `ms`, or less when the start is aborted or the instance ends. */
function pause(ms: number, signal: AbortSignal, instance: Instance): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(finish, ms);
    signal.addEventListener('abort', finish, { once: true });
    void instance.exited.then(finish);
    function finish(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      resolve();
    }
  });
}
