/** The master's typed event map: every lifecycle fact is published once, here, in snake_case. */
import type { ExitEvent, HealthEvent, RestartEvent, StateChangeEvent } from '../lifecycle/events.js';
import type { ScaleDecision } from '../mesh/autoscaler/autoscaler.js';

/** An autoscaling decision of a worker, with its reason. */
export type ScaleEvent = ScaleDecision & { readonly worker_id: string };

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
  scale: ScaleEvent;
}
