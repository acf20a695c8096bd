/** Events the controller publishes; the master re-emits them and everything else subscribes. */
import type { SerializedError } from '../errors.js';
import type { ExitInfo } from '../runtimes/types.js';
import type { WorkerState } from './states.js';

export interface StateChangeEvent {
  readonly workerId: string;
  readonly from: WorkerState;
  readonly to: WorkerState;
  readonly pid: number | undefined;
  readonly at: number;
  readonly reason?: string;
  readonly error?: SerializedError;
}

export interface ExitEvent {
  readonly workerId: string;
  readonly pid: number | undefined;
  readonly exit: ExitInfo;
  /** How long the instance had been running, ms. */
  readonly ranForMs: number;
}

export interface RestartEvent {
  readonly workerId: string;
  /** 'policy' for automatic restarts, 'manual' for restartWorker(), 'unhealthy' when probes failed. */
  readonly cause: 'policy' | 'manual' | 'unhealthy';
  readonly attempt: number;
  readonly delayMs: number;
}

export interface HealthEvent {
  readonly workerId: string;
  readonly status: 'healthy' | 'unhealthy';
  readonly consecutiveFailures: number;
  readonly reason?: string;
}

export interface ControllerEvents {
  state: StateChangeEvent;
  exit: ExitEvent;
  restart: RestartEvent;
  health: HealthEvent;
}

export type ControllerEmit = <K extends keyof ControllerEvents>(name: K, event: ControllerEvents[K]) => void;
