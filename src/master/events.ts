/** The master's typed event map: every lifecycle fact is published once, here, in snake_case. */
import type { ExitEvent, HealthEvent, RestartEvent, StateChangeEvent } from '../lifecycle/events.js';

export interface WorkerAddedEvent {
  readonly worker_id: string;
  readonly type: 'process' | 'module';
  readonly runtime: string;
}

export interface WorkerRemovedEvent {
  readonly worker_id: string;
}

export interface WorkerOutputEvent {
  readonly worker_id: string;
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
  readonly pid: number | null;
}

export interface MasterEvents {
  state: StateChangeEvent;
  exit: ExitEvent;
  restart: RestartEvent;
  health: HealthEvent;
  added: WorkerAddedEvent;
  removed: WorkerRemovedEvent;
  output: WorkerOutputEvent;
}
