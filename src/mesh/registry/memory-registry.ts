/**
 * The registry of one master. Each service keeps two cached arrays (all, healthy) rebuilt only when
 * the service changes, so lookups on the call path are a map read. TTL entries are expired by one
 * unref'd sweep timer that runs only while TTL entries exist.
 */
import { hsuError } from '../../errors.js';
import { Observers, warnSubscriberError, type Subscription } from '../bus/observers.js';
import { parseBlock } from '../config.js';
import { instanceInputSchema, instancePatchSchema, type HealthState, type InstanceInput, type InstancePatch, type ServiceInstance } from './schema.js';
import type { RegistryEvent, RegistrySubscribeOptions, RemovalReason, ServiceRegistry } from './types.js';

export interface MemoryRegistryOptions {
  /** Injectable clock for exact TTL tests. Default `Date.now`. */
  readonly now?: () => number;
  /** How often TTL entries are checked; expiry happens within ttl + this. Default 500 ms. */
  readonly sweep_interval?: number;
  /** Where a throwing subscriber is reported. Default: a process warning. */
  readonly on_subscriber_error?: (error: unknown) => void;
}

interface ServiceEntry {
  readonly members: Map<string, ServiceInstance>;
  all: readonly ServiceInstance[];
  healthy: readonly ServiceInstance[];
}

const EMPTY: readonly ServiceInstance[] = Object.freeze([]);

export class MemoryRegistry implements ServiceRegistry {
  generation = 0;
  private readonly byService = new Map<string, ServiceEntry>();
  private readonly byId = new Map<string, ServiceInstance>();
  private readonly observers: Observers<RegistryEvent>;
  private readonly now: () => number;
  private readonly sweepInterval: number;
  private ttlEntries = 0;
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: MemoryRegistryOptions = {}) {
    this.now = options.now ?? Date.now;
    this.sweepInterval = options.sweep_interval ?? 500;
    this.observers = new Observers(options.on_subscriber_error ?? warnSubscriberError('registry'));
  }

  register(input: InstanceInput): ServiceInstance {
    this.assertOpen();
    const parsed = parseBlock(instanceInputSchema, input, 'instance', 'INSTANCE_INVALID');
    const previous = this.byId.get(parsed.id);
    if (previous !== undefined && previous.service !== parsed.service) {
      throw hsuError('INSTANCE_EXISTS', `instance '${parsed.id}' is registered for service '${previous.service}', not '${parsed.service}'`, {
        instance_id: parsed.id,
        service: previous.service,
      });
    }
    const at = this.now();
    const { ttl, ...fields } = parsed;
    const instance: ServiceInstance = Object.freeze({
      ...fields,
      registered_at: previous?.registered_at ?? at,
      updated_at: at,
      ...(ttl === undefined ? {} : { ttl, expires_at: at + ttl }),
    });
    this.store(instance, previous);
    if (previous === undefined) this.observers.emit({ type: 'added', service: instance.service, instance });
    else this.publishChange(instance, previous);
    return instance;
  }

  update(id: string, patch: InstancePatch): ServiceInstance {
    this.assertOpen();
    const parsed = parseBlock(instancePatchSchema, patch, `instance ${id}`, 'INSTANCE_INVALID');
    const previous = this.mustGet(id);
    const changed = Object.fromEntries(Object.entries(parsed).filter(([, value]) => value !== undefined));
    const instance: ServiceInstance = Object.freeze({ ...previous, ...changed, updated_at: this.now() });
    this.store(instance, previous);
    this.publishChange(instance, previous);
    return instance;
  }

  setHealth(id: string, health: HealthState): ServiceInstance {
    return this.update(id, { health });
  }

  heartbeat(id: string, load?: InstancePatch['load']): ServiceInstance {
    this.assertOpen();
    const previous = this.mustGet(id);
    const at = this.now();
    const refreshed = previous.ttl === undefined ? {} : { expires_at: at + previous.ttl };
    if (load === undefined) {
      // A bare refresh changes no routing fact: no event.
      const instance: ServiceInstance = Object.freeze({ ...previous, ...refreshed });
      this.store(instance, previous);
      return instance;
    }
    const loadOnly = parseBlock(instancePatchSchema, { load }, `instance ${id}`, 'INSTANCE_INVALID').load;
    const instance: ServiceInstance = Object.freeze({ ...previous, ...refreshed, load: loadOnly ?? previous.load, updated_at: at });
    this.store(instance, previous);
    this.observers.emit({ type: 'updated', service: instance.service, instance, previous });
    return instance;
  }

  deregister(id: string): boolean {
    this.assertOpen();
    return this.remove(id, 'deregistered');
  }

  get(id: string): ServiceInstance | undefined {
    return this.byId.get(id);
  }

  instances(service: string): readonly ServiceInstance[] {
    return this.byService.get(service)?.all ?? EMPTY;
  }

  healthy(service: string): readonly ServiceInstance[] {
    return this.byService.get(service)?.healthy ?? EMPTY;
  }

  services(): string[] {
    return [...this.byService.keys()];
  }

  subscribe(listener: (event: RegistryEvent) => void | Promise<void>, options: RegistrySubscribeOptions = {}): Subscription {
    const only = options.service;
    const handler = only === undefined ? listener : (event: RegistryEvent): void | Promise<void> => (event.service === only ? listener(event) : undefined);
    return this.observers.subscribe(handler, options);
  }

  /** Removes every TTL entry whose time has passed; the sweep timer calls it, tests with a fake clock too. */
  sweep(): number {
    const at = this.now();
    let expired = 0;
    for (const instance of [...this.byId.values()]) {
      if (instance.expires_at !== undefined && instance.expires_at <= at && this.remove(instance.id, 'expired')) expired++;
    }
    return expired;
  }

  /** For diagnostics: instance counts per service, TTL entries and subscribers. */
  diagnostics(): { services: Record<string, { instances: number; healthy: number }>; ttl_entries: number; subscribers: number } {
    const services: Record<string, { instances: number; healthy: number }> = {};
    for (const [name, entry] of this.byService) services[name] = { instances: entry.all.length, healthy: entry.healthy.length };
    return { services, ttl_entries: this.ttlEntries, subscribers: this.observers.size };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopSweeper();
    this.observers.close();
  }

  private store(instance: ServiceInstance, previous: ServiceInstance | undefined): void {
    this.byId.set(instance.id, instance);
    let entry = this.byService.get(instance.service);
    if (entry === undefined) {
      entry = { members: new Map(), all: EMPTY, healthy: EMPTY };
      this.byService.set(instance.service, entry);
    }
    entry.members.set(instance.id, instance);
    this.rebuild(entry);
    const wasTtl = previous?.ttl !== undefined;
    const isTtl = instance.ttl !== undefined;
    if (wasTtl !== isTtl) this.countTtl(isTtl ? 1 : -1);
  }

  private remove(id: string, reason: RemovalReason): boolean {
    const instance = this.byId.get(id);
    if (instance === undefined) return false;
    this.byId.delete(id);
    const entry = this.byService.get(instance.service);
    if (entry !== undefined) {
      entry.members.delete(id);
      if (entry.members.size === 0) {
        this.byService.delete(instance.service);
        this.generation++;
      } else {
        this.rebuild(entry);
      }
    }
    if (instance.ttl !== undefined) this.countTtl(-1);
    this.observers.emit({ type: 'removed', service: instance.service, instance, reason });
    return true;
  }

  private rebuild(entry: ServiceEntry): void {
    this.generation++;
    const all = Object.freeze([...entry.members.values()]);
    entry.all = all;
    entry.healthy = Object.freeze(all.filter((instance) => instance.health === 'healthy'));
  }

  private publishChange(instance: ServiceInstance, previous: ServiceInstance): void {
    const service = instance.service;
    if (instance.health !== previous.health) {
      this.observers.emit({ type: 'health_changed', service, instance, from: previous.health, to: instance.health });
    }
    if (differsBeyondHealth(instance, previous)) this.observers.emit({ type: 'updated', service, instance, previous });
  }

  private countTtl(delta: number): void {
    this.ttlEntries += delta;
    if (this.ttlEntries > 0 && this.sweeper === undefined && !this.closed) {
      this.sweeper = setInterval(() => this.sweep(), this.sweepInterval);
      this.sweeper.unref(); // expiry must never keep a process alive
    } else if (this.ttlEntries === 0) {
      this.stopSweeper();
    }
  }

  private stopSweeper(): void {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private mustGet(id: string): ServiceInstance {
    const instance = this.byId.get(id);
    if (instance === undefined) throw hsuError('INSTANCE_NOT_FOUND', `no registered instance '${id}'`, { instance_id: id });
    return instance;
  }

  private assertOpen(): void {
    if (this.closed) throw hsuError('MESH_CLOSED', 'the registry is closed');
  }
}

const ROUTING_FIELDS = ['endpoint', 'version', 'weight', 'load', 'metadata', 'ttl'] as const;

function differsBeyondHealth(a: ServiceInstance, b: ServiceInstance): boolean {
  return ROUTING_FIELDS.some((field) => JSON.stringify(a[field]) !== JSON.stringify(b[field]));
}
