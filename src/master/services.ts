/**
 * The master's service registry and router (hsu/core), fed by the lifecycle: a replica that serves
 * (a module with actions, an integrated process with a port, or any worker with a `service:`
 * block) is registered when it reaches `running`, marked unhealthy the moment it leaves it
 * (`stopping` first, so the router stops picking it before it goes) or its probes fail, and
 * deregistered when it is removed. Calls to a service go through the router: balancer,
 * resilience, retries elsewhere for idempotent calls; whatever the deployment of each replica.
 */
import type { Logger } from 'pino';
import type { WorkerConfig } from '../config/index.js';
import type { WorkerDiagnostics } from '../lifecycle/diagnostics.js';
import type { HealthEvent, StateChangeEvent } from '../lifecycle/events.js';
import type { ClusterRegistry } from '../cluster/registry/cluster-registry.js';
import type { Invoke } from '../mesh/router/route.js';
import { callContextHook } from '../observability/call-context.js';
import { MemoryRegistry } from '../mesh/registry/memory-registry.js';
import type { ServiceInstance } from '../mesh/index.js';
import type { WorkerEndpoint } from '../worker/contract.js';
import { ServiceRouter } from '../mesh/router/router.js';
import type { CallRequestOptions } from '../mesh/call.js';
import type { Replica } from './worker-table.js';

export type ReplicaInvoke = (replicaId: string, action: string, input: unknown, options: CallRequestOptions) => Promise<unknown>;

/** The service a worker's replicas are registered under, or undefined when it does not serve. */
export function serviceOf(config: WorkerConfig): string | undefined {
  if (config.service !== undefined) return config.service.name ?? config.id;
  if (config.type === 'module') return config.id;
  if (config.module !== undefined) return config.id; // a hosted module
  if (config.management === 'integrated') return config.id;
  return undefined;
}

/** Calls to the worker's own id go through the router (several replicas, or a policy to apply). */
export function routed(config: WorkerConfig): boolean {
  return config.instances > 1 || config.autoscale !== undefined || config.balancer !== undefined || config.resilience !== undefined;
}

/** A cluster's registry and its invoke (this master's instances locally, the others' over NATS). */
export interface SharedRegistry {
  readonly registry: ClusterRegistry;
  invoke(local: Invoke): Invoke;
}

export class MasterServices {
  /** Local, or the cluster's (replaced, never mirrored: one source of truth for the router). */
  readonly registry: MemoryRegistry | ClusterRegistry;
  readonly router: ServiceRouter;

  constructor(invoke: ReplicaInvoke, private readonly logger: Logger, shared?: SharedRegistry) {
    const onSubscriberError = (err: unknown): void => logger.error({ err }, 'a service registry subscriber threw; ignored');
    this.registry = shared?.registry ?? new MemoryRegistry({ on_subscriber_error: onSubscriberError });
    const local: Invoke = (instance: ServiceInstance, action, input, options) => invoke(instance.id, action, input, options);
    const picked = shared === undefined ? local : shared.invoke(local);
    this.router = new ServiceRouter({
      registry: this.registry,
      // Tracing notes the replica on the caller's call span (started before the router picked).
      invoke: (instance, action, input, options) => {
        callContextHook()?.routed?.(instance);
        return picked(instance, action, input, options);
      },
      on_subscriber_error: onSubscriberError,
    });
  }

  /**
   * The worker's balancer and resilience blocks become its service's route. Autoscaling on calls in
   * flight needs the balancer to count them (round robin, weighted and consistent hashing do not
   * by default), so it turns counting on, with a round-robin balancer when none is configured.
   */
  configure(config: WorkerConfig): void {
    const service = serviceOf(config);
    const balancer = config.autoscale?.metric === 'inflight_per_replica' ? { ...(config.balancer ?? { strategy: 'round_robin' as const }), track_in_flight: true } : config.balancer;
    if (service === undefined || (balancer === undefined && config.resilience === undefined)) return;
    this.router.configure(service, { ...(balancer === undefined ? {} : { balancer }), ...(config.resilience === undefined ? {} : { resilience: config.resilience }) } as never);
  }

  has(service: string): boolean {
    return this.registry.instances(service).length > 0;
  }

  call(service: string, action: string, input: unknown, options: CallRequestOptions): Promise<unknown> {
    return this.router.call(service, action, input, options);
  }

  /** Keeps the registry true to the replica's state; runs inside the controller's step, so it is never late. */
  onState(replica: Replica, event: StateChangeEvent): void {
    const service = serviceOf(replica.group.config);
    if (service === undefined) return;
    try {
      if (event.to === 'running') this.register(replica, service);
      else if (this.registry.get(replica.id) !== undefined) this.registry.setHealth(replica.id, 'unhealthy');
    } catch (err) {
      this.logger.error({ err, worker: replica.id }, 'service registry update failed');
    }
  }

  onHealth(replica: Replica, event: HealthEvent): void {
    if (this.registry.get(replica.id) === undefined || replica.controller.state !== 'running') return;
    this.registry.setHealth(replica.id, event.status);
  }

  remove(replicaId: string): void {
    this.registry.deregister(replicaId);
  }

  close(): void {
    this.router.close();
    this.registry.close();
  }

  private register(replica: Replica, service: string): void {
    const config = replica.group.config;
    const block = config.service;
    const endpoint: WorkerEndpoint = fillPort(block?.endpoint ?? replica.controller.endpoint ?? { type: 'function', address: replica.id }, replica);
    const diagnostics = replica.controller.diagnostics();
    const moduleVersion = (diagnostics.details as { module?: { version?: string } | null }).module?.version;
    const health = config.health_check === undefined ? 'healthy' : healthAtStart(diagnostics);
    const entry = {
      id: replica.id,
      service,
      endpoint: { type: endpoint.type, address: endpoint.address, ...(endpoint.metadata === undefined ? {} : { metadata: endpoint.metadata }) },
      health,
      version: block?.version ?? moduleVersion ?? '0.0.0',
      weight: block?.weight ?? 1,
      metadata: { ...(block?.metadata ?? {}), worker: config.id, replica: replica.index },
    } as const;
    if (this.registry.get(replica.id) === undefined) this.registry.register(entry);
    else this.registry.update(replica.id, { endpoint: entry.endpoint, health: entry.health, version: entry.version, weight: entry.weight, metadata: entry.metadata });
  }
}

/**
 * A replica reaching `running` has not been probed yet (its health watchdog begins right after the
 * transition): a verdict older than this start is its previous instance's. Ignoring it, a replica
 * restarted for failing its probe comes back like a fresh start (its readiness, if any, passed)
 * instead of being kept out until its first probe, one `health_check.interval` later.
 */
function healthAtStart(diagnostics: WorkerDiagnostics): 'healthy' | 'unhealthy' {
  const { status, checked_at: checkedAt } = diagnostics.health;
  if (status !== 'unhealthy' || checkedAt === null) return 'healthy';
  const startedAt = diagnostics.started_at === null ? Number.NaN : Date.parse(diagnostics.started_at);
  return Date.parse(checkedAt) < startedAt ? 'healthy' : 'unhealthy';
}

function fillPort<T extends { address: string }>(endpoint: T, replica: Replica): T {
  const port = (replica.controller.diagnostics().details as { port?: number }).port;
  return port === undefined ? endpoint : { ...endpoint, address: endpoint.address.replaceAll('{port}', String(port)) };
}
