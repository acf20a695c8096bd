/**
 * The probe port: a health check of one type, bound to one running instance. A probe resolves to a
 * verdict and never throws; it must honour `signal` (the watchdog aborts it at its timeout and
 * when the instance ends), and the watchdog races it against that signal anyway, so a probe that
 * ignores it can delay nothing.
 */
import type { Instance } from '../lifecycle/runtime.js';
import type { HealthCheckConfig } from '../config/index.js';

export interface ProbeResult {
  readonly ok: boolean;
  readonly reason?: string;
}

export type Probe = (signal: AbortSignal) => Promise<ProbeResult>;

/** What a probe may look at: the instance itself (its runtime answer, its endpoint, its pid). */
export interface ProbeTarget {
  readonly workerId: string;
  readonly instance: Instance;
}

export interface ProbeDefinition<C extends HealthCheckConfig = HealthCheckConfig> {
  readonly type: C['type'];
  create(check: C, target: ProbeTarget): Probe;
}

/** The abort reason the probe runners (readiness, the health watchdog) give a probe's signal at its timeout. */
export function probeTimeoutReason(timeoutMs: number): string {
  return `timed out after ${timeoutMs} ms`;
}

/** Whether a probe's signal was aborted by its timeout (not by a start cancelled or a watchdog ending). */
export function isProbeTimeout(signal: AbortSignal): boolean {
  return typeof signal.reason === 'string' && signal.reason.startsWith('timed out after ');
}

/** The reason an aborted probe failed: the watchdog's timeout, or the instance going away. */
export function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'aborted';
}

/** The configured port, else the one an integrated worker was given. */
export function portOf(configured: number | undefined, target: ProbeTarget): number | undefined {
  return configured ?? target.instance.port;
}

/** `{port}` and `{host}` in a URL or command, replaced by the integrated worker's own. */
export function fillPlaceholders(text: string, target: ProbeTarget): string {
  const { port, host } = target.instance;
  return text.replaceAll('{port}', port === undefined ? '{port}' : String(port)).replaceAll('{host}', host ?? '127.0.0.1');
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
