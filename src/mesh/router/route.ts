/**
 * One service as the router sees it: its balancer, its resilience policy and the list of instances
 * it may pick from (healthy in the registry, breaker not open), cached and revalidated per call by
 * identity and integer comparisons. Without a deadline, bulkhead, breaker or timeout a call costs a
 * map read, a pick and one `then`; the rest is paid only by calls that use it.
 */
import { hsuError } from '../../errors.js';
import { createBalancer } from '../balancers/create.js';
import { hashKeyOf } from '../balancers/consistent-hash.js';
import type { Balancer } from '../balancers/types.js';
import type { CallRequest, CallRequestOptions } from '../call.js';
import type { RegistryView } from '../registry/types.js';
import type { ServiceInstance } from '../registry/schema.js';
import type { BreakerSet } from '../resilience/breakers.js';
import { ResiliencePolicy, type ResilienceEvent } from '../resilience/policy.js';
import type { ServiceRouteConfig } from './schema.js';

/** How the master reaches one instance, whatever its deployment (inline, thread, process, remote). */
export type Invoke = (instance: ServiceInstance, action: string, input: unknown, options: CallRequestOptions) => Promise<unknown>;

const EMPTY: readonly ServiceInstance[] = Object.freeze([]);

export class ServiceRoute {
  readonly balancer: Balancer;
  readonly policy: ResiliencePolicy;
  private readonly keyPath: readonly string[] | undefined;
  /** No breaker, no attempt timeout: invoke directly. */
  private readonly fast: boolean;
  /** No bulkhead: a call without its own deadline skips `policy.run`. */
  private readonly direct: boolean;
  private readonly retrying: boolean;
  private readonly idempotentActions: boolean;
  private readonly tracked: boolean;
  private readonly breakers: BreakerSet | undefined;
  private registryGeneration = -1;
  private healthy: readonly ServiceInstance[] = EMPTY;
  private seen: readonly ServiceInstance[] | undefined;
  private eligible: readonly ServiceInstance[] = EMPTY;
  private breakerGeneration = -1;
  private nextProbeAt = Infinity;

  constructor(
    readonly service: string,
    readonly config: ServiceRouteConfig,
    private readonly registry: RegistryView,
    private readonly invoke: Invoke,
    emit: (event: ResilienceEvent) => void,
  ) {
    this.balancer = createBalancer(config.balancer, { service, where: `services.${service}.balancer` });
    this.policy = new ResiliencePolicy(service, config.resilience, { emit, where: `services.${service}.resilience` });
    this.keyPath = config.balancer.strategy === 'consistent_hash' ? config.balancer.hash_key?.split('.') : undefined;
    this.fast = !this.policy.guardsAttempts;
    this.direct = this.policy.retriesOnly;
    this.retrying = this.policy.retryEnabled;
    this.idempotentActions = config.resilience.idempotent_actions.length > 0;
    this.tracked = this.balancer.tracksInFlight;
    this.breakers = this.policy.breakers;
  }

  /**
   * The fast path: a call that is not idempotent is never retried, so its promise is handed back
   * as invoke returned it, watched beside only if the balancer counts calls in flight. An
   * idempotent call gets a chain that can send it elsewhere.
   */
  call(action: string, input: unknown, options: CallRequestOptions): Promise<unknown> {
    if (this.direct && options.timeout === undefined && options.signal === undefined) {
      const idempotent = options.idempotent ?? (this.idempotentActions && this.policy.idempotentAction(action));
      if (!this.retrying || !idempotent) return this.attempt(action, input, options, undefined, false);
      return this.attempt(action, input, options, undefined, true).catch((error: unknown) =>
        this.policy.recover(error, { service: this.service, action, input, options }, this.attemptRequest),
      );
    }
    return this.policy.run({ service: this.service, action, input, options }, this.attemptRequest);
  }

  /** One attempt as `CallNext`, for the policy's retry loop and for middleware chains. */
  readonly attemptRequest = (request: CallRequest): Promise<unknown> => this.attempt(request.action, request.input, request.options, request.avoid, true);

  /**
   * Pick (health- and breaker-aware), guard, invoke. `chained`: the caller (a retry) reacts to the
   * outcome anyway, so the lease is released in that chain and a failure notes its instance for
   * the next pick to avoid; otherwise the promise is returned untouched and watched beside.
   */
  attempt(action: string, input: unknown, options: CallRequestOptions, avoid: readonly string[] | undefined, chained: boolean): Promise<unknown> {
    let lease;
    try {
      const list = this.available();
      const key = this.balancer.needsKey ? (options.key ?? hashKeyOf(input, this.keyPath)) : undefined;
      lease = this.balancer.pick(list, key, avoid);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const instance = lease.instance;
    let pending: Promise<unknown>;
    try {
      pending = this.fast
        ? this.invoke(instance, action, input, options)
        : this.policy.guard(instance.id, (signal) => this.invoke(instance, action, input, signal === options.signal ? options : { ...options, signal }), options.signal);
    } catch (error) {
      pending = Promise.reject(error as Error);
    }
    if (chained) return pending.then(lease.onResolve, lease.onReject);
    if (this.tracked) lease.watch(pending);
    return pending;
  }

  /** Registered instances, healthy ones and calls in flight: what an autoscaler samples. */
  load(): { replicas: number; healthy: number; in_flight: number } {
    return { replicas: this.registry.instances(this.service).length, healthy: this.registry.healthy(this.service).length, in_flight: this.balancer.stats().in_flight };
  }

  close(): void {
    this.policy.close();
  }

  /** The pickable instances: the registry's healthy list minus instances whose breaker is open and not yet due for a probe. */
  private available(): readonly ServiceInstance[] {
    const registry = this.registry;
    if (registry.generation !== this.registryGeneration) {
      this.registryGeneration = registry.generation;
      this.healthy = registry.healthy(this.service);
    }
    const healthy = this.healthy;
    // Said here, where the registered count is known: the balancer only ever sees the healthy list.
    if (healthy.length === 0) throw this.noneHealthy();
    const breakers = this.breakers;
    if (breakers === undefined) return healthy;
    if (healthy !== this.seen) {
      this.seen = healthy;
      breakers.retain((id) => this.registry.get(id) !== undefined);
    } else if (breakers.generation === this.breakerGeneration && (this.nextProbeAt === Infinity || Date.now() < this.nextProbeAt)) {
      return this.eligible;
    }
    this.breakerGeneration = breakers.generation;
    this.nextProbeAt = breakers.nextProbeAt();
    const now = Date.now();
    const open = healthy.filter((instance) => breakers.blocked(instance.id, now));
    this.eligible = open.length === 0 ? healthy : Object.freeze(healthy.filter((instance) => !open.includes(instance)));
    if (this.eligible.length === 0 && healthy.length > 0) {
      const reopenIn = Math.max(0, this.nextProbeAt - now);
      // Not cached as the answer: the next call rechecks, and probes once the first breaker is due.
      this.seen = undefined;
      throw hsuError('CIRCUIT_OPEN', `every healthy instance of ${this.service} has an open circuit breaker; the first probe is due in ${reopenIn} ms`, {
        service: this.service,
        scope: 'service',
        instances: healthy.length,
        reopen_in_ms: reopenIn,
      });
    }
    return this.eligible;
  }

  private noneHealthy(): Error {
    const instances = this.registry.instances(this.service).length;
    const why = instances === 0 ? 'no instance is registered' : `none of its ${instances} instance(s) is healthy`;
    return hsuError('NO_HEALTHY_INSTANCE', `service '${this.service}' cannot be called: ${why}`, { service: this.service, instances, healthy: 0 });
  }
}
