/**
 * The ServiceRouter turns `call(service, action, input, options)` into: the caller's deadline, the
 * service's bulkhead, retries (elsewhere), a health- and breaker-aware pick, the instance's breaker
 * and attempt timeout, and finally `invoke(instance, ...)`, which the master supplies, so replicas
 * may be inline, threads, processes or remote. Routes are created on first use and kept per service.
 *
 * @example
 * const router = new ServiceRouter({ registry, invoke: (instance, action, input, options) => master.call(instance.id, action, input, options) });
 * await router.call('orders', 'get', { id: 7 }, { idempotent: true });
 */
import { hsuError } from '../../errors.js';
import type { BalancerStats } from '../balancers/types.js';
import { Observers, warnSubscriberError, type SubscribeOptions, type Subscription } from '../bus/observers.js';
import { NO_OPTIONS, composeMiddleware, type CallMiddleware, type CallNext, type CallRequest, type CallRequestOptions } from '../call.js';
import { parseBlock } from '../config.js';
import type { RegistryView } from '../registry/types.js';
import type { ResilienceDiagnostics, ResilienceEvent } from '../resilience/policy.js';
import { ServiceRoute, type Invoke } from './route.js';
import { serviceRouteSchema, type ServiceRouteConfig, type ServiceRouteConfigInput } from './schema.js';

export type RouterEvent = ResilienceEvent;

export interface ServiceRouterOptions {
  readonly registry: RegistryView;
  readonly invoke: Invoke;
  /** Per-service `balancer:` and `resilience:` blocks. */
  readonly services?: Readonly<Record<string, ServiceRouteConfigInput>>;
  /** For services without their own block. Default: round robin, default retry. */
  readonly defaults?: ServiceRouteConfigInput;
  /** Run around every routed call, outermost first (tracing, auth, logging). */
  readonly middleware?: readonly CallMiddleware[];
  readonly on_subscriber_error?: (error: unknown) => void;
}

export interface ServiceDiagnostics {
  readonly service: string;
  readonly instances: number;
  readonly healthy: number;
  readonly balancer: BalancerStats;
  readonly resilience: ResilienceDiagnostics;
}

export class ServiceRouter {
  private readonly registry: RegistryView;
  private readonly invoke: Invoke;
  private readonly routes = new Map<string, ServiceRoute>();
  private readonly configs = new Map<string, ServiceRouteConfig>();
  private readonly defaults: ServiceRouteConfig;
  private readonly observers: Observers<RouterEvent>;
  private readonly chain: CallNext | undefined;
  private readonly emit = (event: RouterEvent): void => this.observers.emit(event);
  private closed = false;
  /** The route of the previous call; cleared by configure() and close(). */
  private last: ServiceRoute | undefined;

  constructor(options: ServiceRouterOptions) {
    this.registry = options.registry;
    this.invoke = options.invoke;
    this.defaults = parseBlock(serviceRouteSchema, options.defaults ?? {}, 'defaults');
    for (const [service, config] of Object.entries(options.services ?? {})) this.configs.set(service, parseBlock(serviceRouteSchema, config, `services.${service}`));
    this.observers = new Observers(options.on_subscriber_error ?? warnSubscriberError('router'));
    const middleware = options.middleware ?? [];
    this.chain = middleware.length === 0 ? undefined : composeMiddleware(middleware, this.dispatch);
  }

  /** Calls `action` on one instance of `service`, chosen by the service's balancer. */
  call(service: string, action: string, input?: unknown, options: CallRequestOptions = NO_OPTIONS): Promise<unknown> {
    if (this.chain !== undefined) return this.chain({ service, action, input, options });
    // Calls often go to the same service back to back: a string identity check beats a map lookup.
    const last = this.last;
    if (last !== undefined && last.service === service) return last.call(action, input, options);
    const route = this.routes.get(service);
    if (route !== undefined && !this.closed) {
      this.last = route;
      return route.call(action, input, options);
    }
    return this.dispatch({ service, action, input, options });
  }

  /** The router as the terminal `next` of a middleware chain (the master's, for instance). */
  readonly dispatch = (request: CallRequest): Promise<unknown> => {
    if (this.closed) return Promise.reject(hsuError('MESH_CLOSED', 'the service router is closed', { service: request.service }));
    let route;
    try {
      route = this.route(request.service);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return route.call(request.action, request.input, request.options);
  };

  /**
   * Replaces a service's blocks (or drops them for the defaults). Validated first: a rejected
   * config changes nothing. The new balancer starts with fresh stats and breakers closed.
   */
  configure(service: string, config: ServiceRouteConfigInput | undefined): void {
    const parsed = config === undefined ? undefined : parseBlock(serviceRouteSchema, config, `services.${service}`);
    if (parsed === undefined) this.configs.delete(service);
    else this.configs.set(service, parsed);
    this.routes.get(service)?.close();
    this.routes.delete(service);
    this.last = undefined;
  }

  diagnostics(): ServiceDiagnostics[] {
    return [...this.routes.values()].map((route) => ({
      service: route.service,
      instances: this.registry.instances(route.service).length,
      healthy: this.registry.healthy(route.service).length,
      balancer: route.balancer.stats(),
      resilience: route.policy.diagnostics(),
    }));
  }

  /** What an autoscaler samples: registered and healthy replicas, and calls in flight through this router. */
  load(service: string): { replicas: number; healthy: number; in_flight: number } {
    const route = this.routes.get(service);
    if (route !== undefined) return route.load();
    return { replicas: this.registry.instances(service).length, healthy: this.registry.healthy(service).length, in_flight: 0 };
  }

  /** Breaker state changes, retries and bulkhead rejections of every service. */
  subscribe(listener: (event: RouterEvent) => void | Promise<void>, options?: SubscribeOptions): Subscription {
    return this.observers.subscribe(listener, options);
  }

  /** New calls fail with MESH_CLOSED, pending backoff delays end, subscribers are dropped. Calls in flight settle. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.last = undefined;
    for (const route of this.routes.values()) route.close();
    this.observers.close();
  }

  private route(service: string): ServiceRoute {
    const existing = this.routes.get(service);
    if (existing !== undefined) return existing;
    const config = this.configs.get(service);
    // An unknown name must not leave a route behind (a typo per call would grow the map).
    if (config === undefined && this.registry.instances(service).length === 0) {
      throw hsuError('NO_HEALTHY_INSTANCE', `service '${service}' cannot be called: no instance is registered`, { service, instances: 0, healthy: 0 });
    }
    const route = new ServiceRoute(service, config ?? this.defaults, this.registry, this.invoke, this.emit);
    this.routes.set(service, route);
    return route;
  }
}
