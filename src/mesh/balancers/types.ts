/** What every balancer offers the router: a health-aware pick that returns a lease, and its stats. */
import type { ServiceInstance } from '../registry/schema.js';

/**
 * A picked instance with its in-flight slot taken. With `tracksInFlight`, release it exactly once
 * when the call settles (the router does so from the call's promise, so a throwing call is counted
 * too); without, release only counts a failure and may be skipped.
 */
export interface Lease {
  readonly instance: ServiceInstance;
  release(failed?: boolean): void;
  /**
   * Releases when `promise` settles, beside it: the caller keeps awaiting `promise` itself, so
   * tracking adds no step to its chain. The handlers are allocated once per instance.
   */
  watch(promise: Promise<unknown>): void;
  /** `promise.then(lease.onResolve, lease.onReject)` releases and passes the outcome through. */
  readonly onResolve: (value: unknown) => unknown;
  readonly onReject: (error: unknown) => never;
}

export interface InstanceStats {
  readonly id: string;
  readonly picks: number;
  readonly in_flight: number;
  readonly errors: number;
}

export interface BalancerStats {
  readonly service: string;
  readonly strategy: string;
  /** False: in_flight stays 0 and errors count only calls the router saw fail (idempotent or guarded ones). */
  readonly tracks_in_flight: boolean;
  readonly picks: number;
  readonly in_flight: number;
  readonly errors: number;
  /** Instances currently eligible (healthy, weight > 0), then any that still have calls in flight. */
  readonly instances: readonly InstanceStats[];
}

export interface Balancer {
  readonly service: string;
  readonly strategy: string;
  /** True for consistent hashing: `pick` then needs a key. */
  readonly needsKey: boolean;
  /**
   * Counts calls in flight per instance. Least connections and random (p2c) need it to choose;
   * the others do only with `track_in_flight: true`, because watching each call's settlement costs
   * a promise per call (see docs/mesh.md, benchmarks).
   */
  readonly tracksInFlight: boolean;
  /**
   * Picks among the healthy instances of `instances` (unhealthy and weight-0 ones are never
   * picked) and takes an in-flight slot. Throws NO_HEALTHY_INSTANCE, or HASH_KEY_MISSING for
   * consistent hashing without `key`. The array is treated as an immutable snapshot, as the
   * registry hands it out: a new array (or length) means new instances. `avoid` (a retry's failed
   * instances) is steered around while another eligible instance exists.
   */
  pick(instances: readonly ServiceInstance[], key?: string, avoid?: readonly string[]): Lease;
  /** In-flight calls on one instance (0 for unknown ids). */
  inFlight(id: string): number;
  stats(): BalancerStats;
}
