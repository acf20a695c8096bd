/**
 * The cluster's ServiceRegistry. Reads stay synchronous: they are served from one local view (a
 * MemoryRegistry) holding this master's instances and every other master's, the latter fed by a
 * KV watch (remote-feed.ts) with the writer's TTL, so a master that stops refreshing disappears
 * here within it. Writes change the view at once and are handed to the heartbeat thread, which
 * publishes them and refreshes them every interval: a local registration never waits on NATS.
 *
 * `healthy(service)` orders candidates: with `prefer_local`, or while NATS is unreachable, only
 * this master's healthy replicas when there are any. The array identity contract holds (same
 * array until the service or the filter changes), so the router's per-call cache keeps working.
 */
import type { Subscription } from '../../mesh/bus/observers.js';
import { MemoryRegistry, type MemoryRegistryOptions } from '../../mesh/registry/memory-registry.js';
import type { HealthState, InstanceInput, InstancePatch, ServiceInstance } from '../../mesh/registry/schema.js';
import type { RegistryEvent, RegistrySubscribeOptions, ServiceRegistry } from '../../mesh/registry/types.js';
import { hsuError } from '../../errors.js';
import { remoteId } from '../keys.js';
import type { InstanceRecord } from '../records.js';

export interface ClusterRegistryOptions extends MemoryRegistryOptions {
  /** This master's node name: local registrations carry it. */
  readonly node: string;
  readonly prefer_local: boolean;
  /** Publishes (or, with undefined, withdraws) a local instance; the heartbeat thread's `put`/`delete`. */
  readonly publish: (instance: ServiceInstance, removed: boolean) => void;
}

interface Filtered {
  readonly source: readonly ServiceInstance[];
  readonly result: readonly ServiceInstance[];
}

export class ClusterRegistry implements ServiceRegistry {
  /** Local and remote instances alike; remote ids are `<node>/<id>`. */
  readonly view: MemoryRegistry;
  readonly node: string;
  private readonly preferLocal: boolean;
  private readonly publish: ClusterRegistryOptions['publish'];
  private readonly filtered = new Map<string, Filtered>();
  /** Remote nodes that did not answer a call: their replicas count as unhealthy until they refresh. */
  private readonly suspects = new Set<string>();
  private connected = false;
  private bump = 0;
  private closed = false;

  constructor(options: ClusterRegistryOptions) {
    this.view = new MemoryRegistry(options);
    this.node = options.node;
    this.preferLocal = options.prefer_local;
    this.publish = options.publish;
  }

  get generation(): number {
    return this.view.generation + this.bump;
  }

  // ---- local writes: the view at once, NATS through the heartbeat thread --------------------

  register(input: InstanceInput): ServiceInstance {
    if (input.id.includes('/')) {
      throw hsuError('INSTANCE_INVALID', `instance id '${input.id}' may not contain '/' in a cluster: '<node>/<id>' names another master's instance`, { instance_id: input.id });
    }
    const instance = this.view.register({ ...input, node: this.node });
    this.publish(instance, false);
    return instance;
  }

  update(id: string, patch: InstancePatch): ServiceInstance {
    const instance = this.view.update(id, patch);
    if (instance.node === this.node) this.publish(instance, false);
    return instance;
  }

  setHealth(id: string, health: HealthState): ServiceInstance {
    return this.update(id, { health });
  }

  heartbeat(id: string, load?: InstancePatch['load']): ServiceInstance {
    const instance = this.view.heartbeat(id, load);
    if (load !== undefined && instance.node === this.node) this.publish(instance, false);
    return instance;
  }

  deregister(id: string): boolean {
    const instance = this.view.get(id);
    const removed = this.view.deregister(id);
    if (removed && instance !== undefined && instance.node === this.node) this.publish(instance, true);
    return removed;
  }

  // ---- reads -------------------------------------------------------------------------------

  get(id: string): ServiceInstance | undefined {
    return this.view.get(id);
  }

  instances(service: string): readonly ServiceInstance[] {
    return this.view.instances(service);
  }

  healthy(service: string): readonly ServiceInstance[] {
    const all = this.view.healthy(service);
    const filtering = this.preferLocal || !this.connected || this.suspects.size > 0;
    if (!filtering || all.length === 0) return all;
    const cached = this.filtered.get(service);
    if (cached !== undefined && cached.source === all) return cached.result;
    const reachable = this.suspects.size === 0 ? all : all.filter((instance) => !this.suspects.has(instance.node));
    const local = this.preferLocal || !this.connected ? reachable.filter((instance) => instance.node === this.node) : [];
    const result = local.length > 0 ? Object.freeze(local) : reachable.length === all.length ? all : Object.freeze(reachable);
    this.filtered.set(service, { source: all, result });
    return result;
  }

  services(): string[] {
    return this.view.services();
  }

  subscribe(listener: (event: RegistryEvent) => void | Promise<void>, options?: RegistrySubscribeOptions): Subscription {
    return this.view.subscribe(listener, options);
  }

  /** Local instances only (what this master publishes). */
  local(): ServiceInstance[] {
    return this.view.services().flatMap((service) => this.view.instances(service).filter((instance) => instance.node === this.node));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.view.close();
    this.filtered.clear();
  }

  // ---- the remote side (fed by the watch) ----------------------------------------------------

  /** A record another master published (or refreshed). */
  applyRemote(record: InstanceRecord): void {
    if (this.closed || record.node === this.node) return;
    const id = remoteId(record.node, record.id);
    if (this.suspects.delete(record.node)) this.changed();
    const existing = this.view.get(id);
    if (existing !== undefined && existing.service !== record.service) this.view.deregister(id);
    this.view.register({
      id,
      service: record.service,
      endpoint: record.endpoint,
      health: record.health,
      version: record.version,
      node: record.node,
      weight: record.weight,
      load: record.load,
      metadata: { ...record.metadata, host: record.host },
      ttl: record.ttl,
    });
  }

  removeRemote(node: string, instanceId: string): void {
    if (this.closed || node === this.node) return;
    this.view.deregister(remoteId(node, instanceId));
  }

  /** A master that left cleanly (its lease was deleted): its instances go at once. */
  dropNode(node: string): void {
    if (this.closed || node === this.node) return;
    for (const service of this.view.services()) {
      for (const instance of this.view.instances(service)) if (instance.node === node) this.view.deregister(instance.id);
    }
    if (this.suspects.delete(node)) this.changed();
  }

  /** A node had no responder: skip its replicas until it refreshes its records (a live one does within an interval). */
  suspect(node: string): void {
    if (node === this.node || this.suspects.has(node)) return;
    this.suspects.add(node);
    this.changed();
  }

  setConnected(connected: boolean): void {
    if (this.connected === connected) return;
    this.connected = connected;
    this.changed();
  }

  private changed(): void {
    this.filtered.clear();
    this.bump++;
  }
}
