/**
 * Readiness: during the start, a probe is polled until it passes; only then is the worker
 * `running`. The start timeout covers it (the launch's signal aborts the wait), and an instance
 * that dies while being waited for fails the start at once with its own error.
 */
import { deserializeError, hsuError } from '../errors.js';
import type { Probe } from '../health/probe.js';
import type { Instance } from './runtime.js';

export interface ReadinessSettings {
  readonly interval: number;
  readonly timeout: number;
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
    for (;;) {
      if (died !== undefined) throw died;
      if (signal.aborted) throw notReady(workerId, signal, lastReason);
      const attempt = new AbortController();
      const timer = setTimeout(() => attempt.abort(`timed out after ${settings.timeout} ms`), settings.timeout);
      const onOuter = (): void => attempt.abort(signal.reason);
      signal.addEventListener('abort', onOuter, { once: true });
      try {
        const result = await probe(attempt.signal);
        if (result.ok) return;
        lastReason = result.reason ?? 'not ready';
      } finally {
        clearTimeout(timer);
        signal.removeEventListener('abort', onOuter);
      }
      await pause(settings.interval, signal, instance);
    }
  };
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
