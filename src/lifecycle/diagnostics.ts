/** The diagnostics record of one worker, the same for every type and on every surface (API, CLI, code). */
import type { SerializedError } from '../errors.js';
import type { WorkerEndpoint } from '../worker/index.js';
import type { ExitView } from './events.js';
import type { HealthSnapshot } from './health-watchdog.js';
import type { ExitInfo, RuntimeDetails, RuntimeKind, StopCause } from './runtime.js';
import type { WorkerState } from './states.js';

export interface TransitionRecord {
  readonly from: WorkerState;
  readonly to: WorkerState;
  /** ISO time. */
  readonly at: string;
  readonly reason?: string;
  readonly cause?: StopCause;
}

export interface LastError extends SerializedError {
  /** ISO time. */
  readonly at: string;
}

export interface WorkerDiagnostics {
  readonly id: string;
  readonly type: 'process' | 'module';
  readonly runtime: RuntimeKind;
  readonly state: WorkerState;
  readonly enabled: boolean;
  readonly pid: number | null;
  readonly started_at: string | null;
  readonly uptime_ms: number | null;
  /** Automatic restarts since the worker was added. */
  readonly restart_count: number;
  /** Restarts since the last stable run (drives the backoff). */
  readonly consecutive_restarts: number;
  readonly last_error: LastError | null;
  readonly last_exit: ExitView | null;
  /** Why the last stop happened. */
  readonly stop_cause: StopCause | null;
  readonly health: HealthSnapshot;
  readonly endpoint: WorkerEndpoint | null;
  /** What the runtime knows: static facts plus those of the running instance. */
  readonly details: RuntimeDetails;
  /** Each watchdog's snapshot by name (health, limits, ...). */
  readonly watchdogs: Readonly<Record<string, object>>;
  readonly history: readonly TransitionRecord[];
}

export function exitView(exit: ExitInfo): ExitView {
  return { requested: exit.requested, exit_code: exit.exitCode, signal: exit.signal, forced: exit.forced, at: new Date(exit.at).toISOString(), error: exit.error ?? null };
}

export function describeExit(exit: ExitInfo): string {
  if (exit.error !== undefined) return exit.error.message;
  if (exit.signal !== null) return `killed by ${exit.signal}${exit.forced ? ' (forced)' : ''}`;
  if (exit.exitCode !== null) return `exited with code ${exit.exitCode}`;
  return exit.requested ? 'stopped' : 'ended';
}
