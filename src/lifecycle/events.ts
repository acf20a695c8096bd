/**
 * Events the controller publishes. Every public surface (YAML, JSON API, diagnostics, events)
 * speaks snake_case, so an event field reads the same in a log line, an SSE stream and in code.
 */
import type { SerializedError } from '../errors.js';
import type { StopCause } from './runtime.js';
import type { WorkerState } from './states.js';

export interface StateChangeEvent {
  readonly worker_id: string;
  readonly from: WorkerState;
  readonly to: WorkerState;
  readonly pid: number | null;
  /** Epoch milliseconds. */
  readonly at: number;
  readonly reason?: string;
  /** Why a stop happened, on transitions into stopping and out of it. */
  readonly cause?: StopCause;
  readonly error?: SerializedError;
}

export interface ExitView {
  readonly requested: boolean;
  readonly exit_code: number | null;
  readonly signal: string | null;
  readonly forced: boolean;
  /** ISO time. */
  readonly at: string;
  readonly error: SerializedError | null;
}

export interface ExitEvent {
  readonly worker_id: string;
  readonly pid: number | null;
  readonly exit: ExitView;
  /** How long the instance had been running, ms. */
  readonly ran_for_ms: number;
}

export type RestartCause = 'policy' | 'manual' | 'unhealthy' | 'limit' | 'fatal' | 'schedule';

export interface RestartEvent {
  readonly worker_id: string;
  /** 'policy' after a crash, 'manual' for restartWorker(), or the watchdog cause that ended the instance. */
  readonly cause: RestartCause;
  readonly attempt: number;
  readonly delay_ms: number;
}

export interface HealthEvent {
  readonly worker_id: string;
  readonly status: 'healthy' | 'unhealthy';
  readonly consecutive_failures: number;
  readonly consecutive_successes: number;
  readonly latency_ms: number;
  readonly reason?: string;
}

export interface ControllerEvents {
  state: StateChangeEvent;
  exit: ExitEvent;
  restart: RestartEvent;
  health: HealthEvent;
}

export type ControllerEmit = <K extends keyof ControllerEvents>(name: K, event: ControllerEvents[K]) => void;
