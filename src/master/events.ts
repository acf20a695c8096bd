/** The master's typed event map: every lifecycle fact is published once, here, in snake_case. */
import type { ExitEvent, HealthEvent, RestartEvent, StateChangeEvent } from '../lifecycle/events.js';
import type { ScaleDecision } from '../mesh/autoscaler/autoscaler.js';
import type { ClusterEvent } from '../cluster/cluster.js';

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

/**
 * What happens to this master's membership of a cluster (`master.cluster`), from the master's
 * construction on: its NATS connections (`connected`, `disconnected`, `reconnected`, `closed`,
 * `connecting` with the error of every tenth failed attempt), its node-name lease (`acquired`,
 * `refused`, `lost`) and errors of joining.
 */
export type MasterClusterEvent = ClusterEvent & { readonly at: number };

export interface MasterEvents {
  state: StateChangeEvent;
  exit: ExitEvent;
  restart: RestartEvent;
  health: HealthEvent;
  added: WorkerAddedEvent;
  removed: WorkerRemovedEvent;
  output: WorkerOutputEvent;
  scale: ScaleEvent;
  cluster: MasterClusterEvent;
}
