/**
 * The master's table: workers as configured (groups), each with its replicas. A worker with
 * `instances: 1` and no autoscaling has one replica under the worker's own id; otherwise replicas
 * are `<id>#<n>`. Every operation addresses either a replica or a whole worker by id.
 */
import type { WorkerConfig } from '../config/index.js';
import { hsuError } from '../errors.js';
import type { WorkerController } from '../lifecycle/controller.js';
import type { Runtime } from '../lifecycle/runtime.js';

export interface Replica {
  /** `api`, or `api#2` for a worker with several. */
  readonly id: string;
  readonly index: number;
  readonly group: WorkerGroup;
  /** The worker's config as this replica runs it (its id, its port); replaced when a reload reconfigures the module in place. */
  config: WorkerConfig;
  readonly controller: WorkerController;
  readonly runtime: Runtime;
}

export interface WorkerGroup {
  readonly id: string;
  /** Replaced (never mutated) when the worker is scaled: new replicas are built from it. */
  config: WorkerConfig;
  /** In index order. */
  readonly replicas: Replica[];
  /** Replicas are `<id>#<n>` (several, or autoscaled). */
  readonly numbered: boolean;
}

/**
 * The lowest index no replica of the group holds: after a scale-down and up again the replicas
 * are `#0..#n-1` again (a fixed integrated port stays within base..base+n-1), as a StatefulSet's
 * ordinals are. A replica still stopping holds its index until it is gone.
 */
export function freeIndex(group: WorkerGroup): number {
  const taken = new Set(group.replicas.map((replica) => replica.index));
  let index = 0;
  while (taken.has(index)) index++;
  return index;
}

export class WorkerTable {
  private readonly groups = new Map<string, WorkerGroup>();
  private readonly replicas = new Map<string, Replica>();

  hasGroup(id: string): boolean {
    return this.groups.has(id);
  }

  group(id: string): WorkerGroup | undefined {
    return this.groups.get(id);
  }

  replica(id: string): Replica | undefined {
    return this.replicas.get(id);
  }

  addGroup(group: WorkerGroup): void {
    this.groups.set(group.id, group);
  }

  /** Keeps the group's list in index order. */
  addReplica(replica: Replica): void {
    const list = replica.group.replicas;
    const at = list.findIndex((other) => other.index > replica.index);
    if (at < 0) list.push(replica);
    else list.splice(at, 0, replica);
    this.replicas.set(replica.id, replica);
  }

  deleteReplica(replica: Replica): void {
    const list = replica.group.replicas;
    const at = list.indexOf(replica);
    if (at >= 0) list.splice(at, 1);
    this.replicas.delete(replica.id);
  }

  deleteGroup(group: WorkerGroup): void {
    for (const replica of [...group.replicas]) this.deleteReplica(replica);
    this.groups.delete(group.id);
  }

  /** The replicas an id names: one replica, or every replica of a worker. */
  select(id: string): Replica[] {
    const replica = this.replicas.get(id);
    if (replica !== undefined) return [replica];
    const group = this.groups.get(id);
    if (group !== undefined) return [...group.replicas];
    throw this.notFound(id);
  }

  /** The one replica an id names; a worker with several replicas must be named by replica. */
  one(id: string): Replica {
    const replica = this.replicas.get(id);
    if (replica !== undefined) return replica;
    const group = this.groups.get(id);
    if (group !== undefined) {
      throw hsuError('WORKER_NOT_FOUND', `worker '${id}' has ${group.replicas.length} replicas; name one of them (${group.replicas.map((r) => r.id).join(', ') || 'none running'})`, {
        worker_id: id,
        replicas: group.replicas.map((r) => r.id),
      });
    }
    throw this.notFound(id);
  }

  allGroups(): WorkerGroup[] {
    return [...this.groups.values()];
  }

  /** Every replica, in config order and then index order. */
  allReplicas(): Replica[] {
    return [...this.groups.values()].flatMap((group) => group.replicas);
  }

  notFound(id: string): Error {
    const ids = this.allReplicas().map((r) => r.id);
    return hsuError('WORKER_NOT_FOUND', `no worker with id '${id}' (workers: ${ids.join(', ') || 'none'})`, { worker_id: id });
  }
}
