/**
 * The registry contract. The in-memory registry implements it for one master; the cluster issue
 * backs it with a JetStream KV bucket. Reads are synchronous (served from a local view, which a
 * distributed registry keeps by watching), writes may be asynchronous.
 */
import type { SubscribeOptions, Subscription } from '../bus/observers.js';
import type { HealthState, InstanceInput, InstancePatch, ServiceInstance } from './schema.js';

export type Awaitable<T> = T | Promise<T>;

export type RemovalReason = 'deregistered' | 'expired';

export type RegistryEvent =
  | { readonly type: 'added'; readonly service: string; readonly instance: ServiceInstance }
  | { readonly type: 'updated'; readonly service: string; readonly instance: ServiceInstance; readonly previous: ServiceInstance }
  | {
      readonly type: 'health_changed';
      readonly service: string;
      readonly instance: ServiceInstance;
      readonly from: HealthState;
      readonly to: HealthState;
    }
  | { readonly type: 'removed'; readonly service: string; readonly instance: ServiceInstance; readonly reason: RemovalReason };

export type RegistryEventType = RegistryEvent['type'];

export interface RegistrySubscribeOptions extends SubscribeOptions {
  /** Only events of this service. */
  readonly service?: string;
}

/** What the router and balancers need: synchronous, allocation-free lookups. */
export interface RegistryView {
  /**
   * Changes whenever any instance list changes: a caller that cached `healthy(service)` may keep it
   * while this stays the same (one integer read per call instead of a lookup).
   */
  readonly generation: number;
  get(id: string): ServiceInstance | undefined;
  /** Every instance of `service`, any health; the same array until the service changes. */
  instances(service: string): readonly ServiceInstance[];
  /** Only `health: healthy`; the same array until the service changes, so callers may cache by identity. */
  healthy(service: string): readonly ServiceInstance[];
  services(): string[];
  subscribe(listener: (event: RegistryEvent) => void | Promise<void>, options?: RegistrySubscribeOptions): Subscription;
}

export interface ServiceRegistry extends RegistryView {
  /** Adds an instance (or replaces one with the same id and service). Throws INSTANCE_INVALID / INSTANCE_EXISTS. */
  register(input: InstanceInput): Awaitable<ServiceInstance>;
  /** Changes fields other than the identity; `health` changes are published as `health_changed`. */
  update(id: string, patch: InstancePatch): Awaitable<ServiceInstance>;
  setHealth(id: string, health: HealthState): Awaitable<ServiceInstance>;
  /** Pushes a TTL entry's expiry forward (and optionally updates its load); INSTANCE_NOT_FOUND once expired. */
  heartbeat(id: string, load?: InstancePatch['load']): Awaitable<ServiceInstance>;
  /** True if it was registered. */
  deregister(id: string): Awaitable<boolean>;
  /** Ends timers and subscriptions; later writes throw MESH_CLOSED. */
  close(): Awaitable<void>;
}
