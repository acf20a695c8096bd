/**
 * What a `master.call` target names, for the call metrics' labels. The call middleware runs before
 * the router picks a replica, so a call to a routed worker (`instances > 1`, a balancer or a
 * resilience block) or to a service name cannot be put on the replica that served it: it is
 * `worker_id="_routed"` with the `service` it went to (the replicas' shares are in
 * `hsu_balancer_picks_total`, and on a traced call's span: `hsu.replica.id`). A call to one replica (a single worker's own id, or `api#2`) is
 * that `worker_id`, with its worker's service (empty for a worker that serves none).
 * Resolved once per target and kept until workers are added or removed.
 */
import type { Master } from '../../master/master.js';
import { routed, serviceOf } from '../../master/services.js';

/** `worker_id` of calls the router placed. */
export const ROUTED = '_routed';
/** `worker_id` of calls to a target that names nothing. */
export const UNKNOWN = '_unknown';

export interface CallTarget {
  readonly worker_id: string;
  readonly service: string;
}

export class CallTargets {
  private readonly cache = new Map<string, CallTarget>();
  private readonly offs: (() => void)[];

  constructor(private readonly master: Master) {
    // A scale, an added or removed worker can change what a name resolves to.
    const clear = (): void => this.cache.clear();
    this.offs = [master.on('added', clear), master.on('removed', clear)];
  }

  /** Only targets that name something are kept: a caller's typos must not grow the cache. */
  resolve(target: string): CallTarget {
    const cached = this.cache.get(target);
    if (cached !== undefined) return cached;
    const resolved = this.lookUp(target);
    if (resolved.worker_id !== UNKNOWN && this.cache.size < 10_000) this.cache.set(target, resolved);
    return resolved;
  }

  /** Whether a worker of this master serves `service`, or the registry (a cluster's too) has instances of it: made once, asked per series. */
  servedServices(): (service: string) => boolean {
    const served = new Set<string>();
    for (const id of this.master.listWorkerIds()) {
      const service = serviceOf(this.master.getWorkerConfig(id));
      if (service !== undefined) served.add(service);
    }
    return (service) => served.has(service) || this.master.services.has(service);
  }

  close(): void {
    for (const off of this.offs.splice(0)) off();
    this.cache.clear();
  }

  private lookUp(target: string): CallTarget {
    let replicas: string[] | undefined;
    try {
      replicas = this.master.listReplicas(target);
    } catch {
      replicas = undefined; // not a worker id: a replica id or a service name
    }
    if (replicas !== undefined) {
      const config = this.master.getWorkerConfig(target);
      const service = serviceOf(config) ?? '';
      if (replicas.length === 1 && replicas[0] === target && !routed(config)) return { worker_id: target, service };
      return service === '' ? { worker_id: UNKNOWN, service } : { worker_id: ROUTED, service };
    }
    // A numbered replica, `<worker>#<n>`: its config carries the replica's id, so the service is its worker's.
    const hash = target.lastIndexOf('#');
    if (hash > 0) {
      const worker = target.slice(0, hash);
      try {
        if (this.master.listReplicas(worker).includes(target)) return { worker_id: target, service: serviceOf(this.master.getWorkerConfig(worker)) ?? '' };
      } catch {
        // not a replica's id
      }
    }
    return this.master.services.has(target) ? { worker_id: ROUTED, service: target } : { worker_id: UNKNOWN, service: '' };
  }
}
