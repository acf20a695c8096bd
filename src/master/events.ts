/** The master's typed event map: every lifecycle fact is published once, here. */
import type { ExitEvent, HealthEvent, RestartEvent, StateChangeEvent } from '../lifecycle/events.js';

export interface WorkerAddedEvent {
  readonly workerId: string;
  readonly type: 'process' | 'module';
}

export interface WorkerOutputEvent {
  readonly workerId: string;
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
  readonly pid: number | undefined;
}

export interface MasterEvents {
  state: [StateChangeEvent];
  exit: [ExitEvent];
  restart: [RestartEvent];
  health: [HealthEvent];
  added: [WorkerAddedEvent];
  removed: [{ readonly workerId: string }];
  output: [WorkerOutputEvent];
}
