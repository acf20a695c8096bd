/**
 * The Master: one table of workers of every type (each with its replicas), one API over it. It
 * owns ordering (dependencies first, shutdown in reverse), the shutdown deadline, the event bus,
 * the service registry and router, and the seams (runtimes, probes, watchdogs, call middleware);
 * the lifecycle of each replica lives in its controller. Everything process-wide it installs is
 * tied to its lifetime and given back at shutdown (facilities.ts).
 */
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { parseWorkerConfig, type HsuConfig, type WorkerConfig, type WorkerConfigInput } from '../config/index.js';
import { hsuError } from '../errors.js';
import { EventBus } from '../events/bus.js';
import { ProbeRegistry } from '../health/registry.js';
import type { WorkerDiagnostics } from '../lifecycle/diagnostics.js';
import type { HealthSnapshot } from '../lifecycle/health-watchdog.js';
import type { Runtime } from '../lifecycle/runtime.js';
import { OPERATIONS, type WorkerState } from '../lifecycle/states.js';
import type { AutoscaleLoop } from '../mesh/autoscaler/loop.js';
import { EventBus as TopicBus } from '../mesh/bus/event-bus.js';
import { registerBuiltinRuntimes } from '../runtimes/builtin.js';
import { RuntimeRegistry, type RuntimeContext, type RuntimeDefinition } from '../runtimes/registry.js';
import type { CallOptions, Client } from '../worker/define.js';
import type { ModuleExport } from '../worker/contract.js';
import { startAutoscaling } from './autoscaling.js';
import type { ClusterView } from '../cluster/view.js';
import type { ClusterLink } from './cluster-link.js';
import { loadConfigForMaster } from './config-loader.js';
import { awaitDependencies, dependencyOrder, type DependencyHost } from './dependencies.js';
import type { MasterEvents } from './events.js';
import { Facilities, type CgroupMode } from './facilities.js';
import { HeapTrim } from './heap-trim.js';
import { compose, type CallMiddleware, type CallNext } from './middleware.js';
import { resolveOrphans } from './orphans.js';
import { reconfigureGroup } from './reconfigure.js';
import { buildReplica, numbered, type ReplicaDeps, type WatchdogFactory } from './replicas.js';
import { MasterServices, routed, serviceOf } from './services.js';
import { freeIndex, WorkerTable, type Replica, type WorkerGroup } from './worker-table.js';
import { rememberConfigOrigin } from './config-origin.js';

export type { WatchdogFactory } from './replicas.js';

export interface MasterOptions {
  /** Master log; defaults to a silent logger so library use prints nothing unasked. */
  readonly logger?: Logger;
  /** A joined cluster (see Master.create): its shared registry replaces the local one. */
  readonly cluster?: ClusterLink;
  /** Where per-worker stdout/stderr files go. Default `./logs`. */
  readonly logDir?: string;
  /** Upper bound for shutdown(); after it, remaining workers are force-stopped. Default 30 s. */
  readonly shutdownTimeoutMs?: number;
  /** Resolve relative paths of workers added through addWorker() against this directory. */
  readonly baseDir?: string;
  /** Charge uncaught errors raised by inline modules to their module instead of ending the master (docs/isolation.md). Default true. */
  readonly attributeUncaughtErrors?: boolean;
  /**
   * Where the master holds its lock and records the pids it spawned. A master that finds processes
   * a dead master left running adopts or kills them when it starts. Unset: no records (`hsu run`
   * and {@link Master.fromConfigFile} use `master.state_dir`).
   */
  readonly stateDir?: string;
  /** Extra watchdogs per worker, beside its health checks. */
  readonly watchdogs?: readonly WatchdogFactory[];
  /** A cgroup per process worker: auto (v2, else v1, else none), a given version, or off. Default auto. */
  readonly cgroups?: CgroupMode;
  /** How often process workers' resources are sampled (one pass over /proc for all). Default 1 s. */
  readonly sampleIntervalMs?: number;
  /**
   * One memory-reducing GC once the master is quiet after starting workers (src/master/heap-trim.ts):
   * gives back the young generation that loading and starting grew, ~18 MB for `hsu run`. Default true.
   */
  readonly trimHeapAfterStart?: boolean;
}

export interface StartResult {
  readonly id: string;
  readonly ok: boolean;
  readonly error?: { code: string; message: string };
}

export interface ShutdownReport {
  /** True when the deadline passed (or a forced shutdown was asked for) and workers were forced down. */
  readonly forced: boolean;
  readonly duration_ms: number;
}

/** What a whole config file does not say: how the master logs, and the code it runs. */
export interface FromConfigOptions {
  readonly logger?: Logger;
  /** A cluster already joined (see {@link Master.create}); its registry becomes the master's. */
  readonly cluster?: ClusterLink;
  /** Native module factories the config's `module_type: native` workers name. */
  readonly natives?: Readonly<Record<string, ModuleExport>>;
  readonly watchdogs?: readonly WatchdogFactory[];
}

export class Master {
  readonly logger: Logger;
  /** Every lifecycle event, delivered asynchronously (after the transition that caused it). */
  readonly events: EventBus<MasterEvents>;
  /** Runtime kinds; register one to run a new kind of worker. */
  readonly runtimes = registerBuiltinRuntimes(new RuntimeRegistry());
  /** Health probe types; register one to add a probe type. */
  readonly probes = ProbeRegistry.withBuiltins();
  /** The service registry and router (hsu/core), fed by the replicas' lifecycle. */
  readonly services: MasterServices;
  /**
   * The bus modules share (ctx.bus), whatever their deployment; the master publishes its lifecycle
   * on it too: `hsu.state`, `hsu.exit`, `hsu.restart`, `hsu.health`, `hsu.scale`, `hsu.registry`,
   * `hsu.resilience` (breaker state changes, retries, bulkhead refusals), `hsu.cluster` (NATS
   * connection and node-name lease of a master in a cluster).
   */
  readonly bus: TopicBus;
  private readonly table = new WorkerTable();
  private readonly natives = new Map<string, ModuleExport>();
  private readonly logDir: string;
  private readonly shutdownTimeoutMs: number;
  private readonly baseDir: string;
  private readonly facilities: Facilities;
  private readonly deps: ReplicaDeps;
  private readonly scaling = new Map<string, AutoscaleLoop>();
  /** Set when the master is one of a cluster (`master.cluster`). */
  private readonly cluster: ClusterLink | undefined;
  private orphanDecision: Promise<void> | undefined;
  private middlewares: CallMiddleware[] = [];
  private callChain: CallNext | undefined;
  private shuttingDown: Promise<ShutdownReport> | undefined;
  private forceShutdown: ((why: string) => void) | undefined;
  private readonly heapTrim: HeapTrim;

  constructor(options: MasterOptions = {}) {
    // A destination of its own: pino's default opens stdout and leaves a process 'exit' hook behind.
    this.logger = options.logger ?? pino({ level: 'silent' }, { write: () => undefined });
    this.events = new EventBus<MasterEvents>(({ event, error }) => this.logger.error({ err: error, event }, 'an event listener threw; ignored'));
    this.baseDir = options.baseDir ?? process.cwd();
    this.logDir = path.resolve(this.baseDir, options.logDir ?? 'logs');
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? 30_000;
    this.heapTrim = new HeapTrim(this.logger, options.trimHeapAfterStart ?? true);
    this.facilities = new Facilities({
      logger: this.logger,
      baseDir: this.baseDir,
      stateDir: options.stateDir,
      cgroups: options.cgroups ?? 'auto',
      sampleIntervalMs: options.sampleIntervalMs ?? 1_000,
      attributeUncaughtErrors: options.attributeUncaughtErrors ?? true,
    });
    this.cluster = options.cluster;
    this.services = new MasterServices((replicaId, action, input, callOptions) => this.callReplica(replicaId, action, input, callOptions), this.logger, options.cluster?.cluster);
    options.cluster?.bind(this);
    this.bus = new TopicBus({ origin: 'master', on_subscriber_error: (err) => this.logger.error({ err }, 'a bus subscriber threw; ignored') });
    this.services.registry.subscribe((change) => this.publishOnBus('hsu.registry', change));
    options.cluster?.onNotable((event) => this.publish('cluster', { ...event, at: Date.now() }));
    // Breakers opening and closing, retries, bulkhead refusals: on the bus, and a breaker in the log.
    this.services.router.subscribe((event) => {
      if (event.type === 'circuit_state') this.logger.warn({ service: event.service, instance: event.instance_id, from: event.from, to: event.to }, `circuit ${event.to} for ${event.service}`);
      this.publishOnBus('hsu.resilience', event);
    });
    const context: RuntimeContext = {
      services: {
        call: (target, action, input, callOptions) => this.call(target, action, input, callOptions),
        publish: (topic, payload) => void this.bus.publish(topic, payload),
        subscribe: (topic, handler) => {
          const subscription = this.bus.subscribe(topic, (payload) => handler(payload));
          return () => subscription.unsubscribe();
        },
      },
      logDir: this.logDir,
      natives: this.natives,
      attribution: () => this.facilities.attributionScope(),
      tracker: this.facilities.pids,
      groups: this.facilities.groups,
      cgroups: () => this.facilities.cgroups(),
      onLine: (workerId, stream, line, pid) => {
        if (this.events.has('output')) this.events.emit('output', { worker_id: workerId, stream, line, pid: pid ?? null });
      },
    };
    this.deps = {
      runtimes: this.runtimes,
      probes: this.probes,
      context,
      watchdogFactories: options.watchdogs ?? [],
      resources: this.facilities.resources,
      emit: (name, event) => this.publish(name, event),
      logger: this.logger,
    };
  }

  /**
   * A master configured by a whole config file: its `master:` section (log and state
   * directories, shutdown timeout, error attribution, cgroups, orphan adoption) and every worker,
   * not started. The one obvious way to run a config file from code.
   * @example
   * const master = await Master.fromConfigFile('hsu.yaml', { logger });
   * await master.start();
   * // ...
   * await master.shutdown();
   */
  static async fromConfigFile(file: string, options: FromConfigOptions = {}): Promise<Master> {
    return Master.create(await loadConfigForMaster(file), file, options);
  }

  /**
   * As {@link fromConfig}, joining the cluster first when the config has a `master.cluster` block
   * (rejects with CLUSTER_NODE_NAME_TAKEN when a live master holds the node name).
   */
  static async create(config: HsuConfig, file: string, options: FromConfigOptions = {}): Promise<Master> {
    const block = config.master.cluster;
    if (block === undefined || options.cluster !== undefined) return Master.fromConfig(config, file, options);
    const { joinCluster } = await import('./cluster-link.js');
    const logger = options.logger ?? pino({ level: 'silent' }, { write: () => undefined });
    const link = await joinCluster(block, logger);
    try {
      return Master.fromConfig(config, file, { ...options, logger, cluster: link });
    } catch (error) {
      await link.cluster.close();
      throw error;
    }
  }

  /**
   * As {@link fromConfigFile}, for a config already loaded from `file` (relative paths resolve
   * against its directory). Synchronous, so it cannot join a cluster: with a `master.cluster` block
   * use {@link create} (this master then runs alone, and says so in its log).
   */
  static fromConfig(config: HsuConfig, file: string, options: FromConfigOptions = {}): Master {
    const master = new Master({
      logDir: config.master.log_dir,
      stateDir: config.master.state_dir,
      shutdownTimeoutMs: config.master.shutdown_timeout,
      attributeUncaughtErrors: config.master.inline_error_attribution,
      cgroups: config.master.cgroups,
      sampleIntervalMs: config.master.sample_interval,
      baseDir: path.dirname(path.resolve(file)),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      ...(options.watchdogs === undefined ? {} : { watchdogs: options.watchdogs }),
      ...(options.cluster === undefined ? {} : { cluster: options.cluster }),
    });
    try {
      for (const [name, factory] of Object.entries(options.natives ?? {})) master.registerNativeModuleFactory(name, factory);
      for (const worker of config.workers) master.addWorker(worker);
    } catch (error) {
      master.abandon();
      throw error;
    }
    if (config.master.cluster !== undefined && options.cluster === undefined) {
      master.logger.warn({ cluster: config.master.cluster.name }, 'master.cluster is set but Master.fromConfig does not join a cluster (use Master.create or Master.fromConfigFile): this master runs alone');
    }
    rememberConfigOrigin(master, { config, file: path.resolve(file) });
    // Every worker is known: what a dead master left running can be adopted (or killed) now.
    void master.decideOrphans();
    return master;
  }

  /** The cluster as this master sees it (every live master and its instances); undefined when it is alone. */
  clusterView(): ClusterView | undefined {
    return this.cluster?.cluster.view();
  }

  // ---- events ---------------------------------------------------------------------------------

  /** Subscribe to an event; returns the function that unsubscribes. */
  on<K extends keyof MasterEvents>(name: K, listener: (event: MasterEvents[K]) => unknown): () => void {
    return this.events.on(name, listener);
  }

  off<K extends keyof MasterEvents>(name: K, listener: (event: MasterEvents[K]) => unknown): void {
    this.events.off(name, listener);
  }

  /** The next event of `name` matching `filter`; aborting `signal` stops waiting. */
  once<K extends keyof MasterEvents>(name: K, filter?: (event: MasterEvents[K]) => boolean, signal?: AbortSignal): Promise<MasterEvents[K]> {
    return this.events.once(name, filter, signal);
  }

  // ---- seams ----------------------------------------------------------------------------------

  /** Register a factory for `module_type: native` workers. */
  registerNativeModuleFactory(name: string, factory: ModuleExport): void {
    if (this.natives.has(name)) {
      throw hsuError('MODULE_FACTORY_EXISTS', `a native module factory named '${name}' is already registered`, { module_name: name });
    }
    this.natives.set(name, factory);
    this.logger.debug({ module_name: name }, 'registered native module factory');
  }

  /** Register a runtime kind; it is consulted before the built-in ones. */
  registerRuntime(definition: RuntimeDefinition): void {
    this.runtimes.register(definition);
  }

  /** Wrap every `call()` (first added runs outermost). */
  use(middleware: CallMiddleware): void {
    this.middlewares = [...this.middlewares, middleware];
    this.callChain = compose(this.middlewares, (request) => this.route(request.target, request.action, request.input, request.options));
  }

  // ---- the worker table -----------------------------------------------------------------------

  /** Validate and add a worker with its replicas (not started). Accepts the YAML shape; relative paths resolve against `baseDir`. */
  addWorker(input: WorkerConfigInput | WorkerConfig): void {
    this.assertOpen();
    const config = parseWorkerConfig(input, this.baseDir);
    if (this.table.hasGroup(config.id) || this.table.replica(config.id) !== undefined) {
      throw hsuError('WORKER_EXISTS', `a worker with id '${config.id}' already exists`, { worker_id: config.id });
    }
    const group: WorkerGroup = { id: config.id, config, replicas: [], numbered: numbered(config) };
    const replicas = Array.from({ length: config.instances }, (_, index) => buildReplica(group, index, this.deps));
    this.table.addGroup(group);
    for (const replica of replicas) this.table.addReplica(replica);
    this.services.configure(config);
    this.logger.info({ worker: config.id, type: config.type, runtime: replicas[0]?.runtime.kind, instances: replicas.length }, 'worker added');
    for (const replica of replicas) this.events.emit('added', { worker_id: replica.id, type: config.type, runtime: replica.runtime.kind });
  }

  /** Remove a worker (or one replica) that is not running: stop it first. */
  async removeWorker(id: string): Promise<void> {
    const replicas = this.table.select(id);
    for (const replica of replicas) {
      const allowed: readonly WorkerState[] = OPERATIONS.remove;
      if (!allowed.includes(replica.controller.state)) {
        throw hsuError('WORKER_RUNNING', `cannot remove worker '${replica.id}' while it is ${replica.controller.state}; stop it first`, { worker_id: replica.id, state: replica.controller.state });
      }
    }
    const group = this.table.group(id);
    if (group !== undefined) await this.scaling.get(group.id)?.close();
    for (const replica of replicas) await this.dropReplica(replica);
    if (group !== undefined) this.table.deleteGroup(group);
    this.logger.info({ worker: id }, 'worker removed');
  }

  /** Starts the worker (every replica), after starting whatever it depends on that is not up (as systemctl start does). */
  startWorker(id: string): Promise<void> {
    this.assertOpen();
    // A process a dead master left running for this worker is adopted first, never duplicated.
    if (this.facilities.orphans.length > 0 && this.orphanDecision === undefined) return this.decideOrphans().then(() => this.startWorker(id));
    const replicas = this.table.select(id);
    const group = replicas[0]?.group ?? this.table.group(id);
    if (group === undefined) return Promise.resolve();
    this.ensureScaling(group);
    // Without dependencies the start begins now, in this turn, as a plain start always has.
    const started = group.config.depends_on.length === 0 ? startAll(replicas) : this.startAfterDependencies(group, replicas);
    started.then(
      () => this.heapTrim.schedule(),
      () => undefined,
    );
    return started;
  }

  stopWorker(id: string, options: { force?: boolean } = {}): Promise<void> {
    return Promise.all(this.table.select(id).map((replica) => replica.controller.stop(options))).then(() => undefined);
  }

  /** `reason` is what the replicas' `stopping` transitions say (default "stop requested"). */
  restartWorker(id: string, options: { force?: boolean; reason?: string } = {}): Promise<void> {
    this.assertOpen();
    return Promise.all(this.table.select(id).map((replica) => replica.controller.restart(options))).then(() => undefined);
  }

  getWorkerState(id: string): WorkerState {
    return this.table.one(id).controller.state;
  }

  /** The states of what `id` names: every replica of a worker, or the one replica. */
  getWorkerStates(id: string): WorkerState[] {
    return this.table.select(id).map((replica) => replica.controller.state);
  }

  /** The worker's config (a replica's id names its worker's config, with the replica's id). */
  getWorkerConfig(id: string): WorkerConfig {
    return this.table.replica(id)?.config ?? this.table.group(id)?.config ?? this.table.one(id).config;
  }

  getWorkerStateWithDiagnostics(id: string): WorkerDiagnostics {
    return this.table.one(id).controller.diagnostics();
  }

  /** Diagnostics of every replica, by replica id, in config order. */
  getAllWorkerStatesWithDiagnostics(): Record<string, WorkerDiagnostics> {
    const out: Record<string, WorkerDiagnostics> = {};
    for (const replica of this.table.allReplicas()) out[replica.id] = replica.controller.diagnostics();
    return out;
  }

  getWorkerHealth(id: string): Promise<HealthSnapshot> {
    return this.table.one(id).controller.checkHealth();
  }

  /** Replica ids (a worker's own id when it has one replica) in config order. */
  listWorkers(): string[] {
    return this.table.allReplicas().map((replica) => replica.id);
  }

  /** Worker ids (what the config names, replicas or not) in config order. */
  listWorkerIds(): string[] {
    return this.table.allGroups().map((group) => group.id);
  }

  /**
   * Runs `instances` replicas of a worker whose replicas are numbered (as `pm2 scale` does): new
   * ones are started if the worker is active (at the lowest free numbers), the highest-numbered
   * are stopped together (draining their calls) and removed, the others are not touched.
   * 'unsupported' when the count cannot change in place: from or to a single unnumbered instance,
   * or a count its autoscaler manages ({@link scalingRefusal} says why).
   */
  async scaleWorker(id: string, instances: number): Promise<'applied' | 'unsupported'> {
    this.assertOpen();
    const group = this.table.group(id);
    if (group === undefined) throw this.table.notFound(id);
    if (this.scalingRefusal(id, instances) !== undefined) return 'unsupported';
    const active = group.replicas.some((r) => (['starting', 'running', 'waiting_restart'] as readonly WorkerState[]).includes(r.controller.state));
    group.config = { ...group.config, instances };
    // Every victim leaves the balancer first, then all drain and stop at once (not one grace period after another).
    const victims = group.replicas.slice(instances);
    for (const victim of victims) if (this.services.registry.get(victim.id) !== undefined) this.services.registry.setHealth(victim.id, 'unhealthy');
    await Promise.all(
      victims.map(async (victim) => {
        await stopQuietly(victim, false);
        await this.dropReplica(victim);
      }),
    );
    const added: Replica[] = [];
    while (group.replicas.length < instances) {
      const replica = buildReplica(group, freeIndex(group), this.deps);
      this.table.addReplica(replica);
      this.events.emit('added', { worker_id: replica.id, type: group.config.type, runtime: replica.runtime.kind });
      added.push(replica);
    }
    this.logger.info({ worker: id, instances }, 'worker scaled');
    if (active) await startAll(added);
    return 'applied';
  }

  /** Why {@link scaleWorker} would answer 'unsupported' for this count, in words for an operator; undefined when it would not. */
  scalingRefusal(id: string, instances: number): string | undefined {
    const group = this.table.group(id);
    if (group === undefined) throw this.table.notFound(id);
    if (group.config.autoscale !== undefined) return `worker '${id}' is autoscaled (${group.config.autoscale.min}..${group.config.autoscale.max} replicas): its autoscaler sets the count`;
    if (!group.numbered) return `worker '${id}' runs one unnumbered instance: give it \`instances:\` (2 or more) in the config file and reload`;
    if (instances < 2) return `a worker with replicas keeps at least 2 (asked for ${instances}); for one, set \`instances: 1\` in the config file and reload`;
    return undefined;
  }

  /**
   * Applies a module worker's new `config:` block in place: each running replica's `reconfigure`
   * action receives it, and the stored config (what a restart or a new replica starts with) becomes
   * it. 'unsupported' when the worker is not a module or its module has no `reconfigure` action;
   * a rejection is the module refusing the config (the stored config then stays the old one).
   */
  reconfigureWorker(id: string, moduleConfig: Readonly<Record<string, unknown>>): Promise<'applied' | 'unsupported'> {
    this.assertOpen();
    const group = this.table.group(id) ?? this.table.replica(id)?.group;
    if (group === undefined) return Promise.reject(this.table.notFound(id));
    return reconfigureGroup(group, moduleConfig);
  }

  /** The replicas of a worker, by id. */
  listReplicas(workerId: string): string[] {
    const group = this.table.group(workerId);
    if (group === undefined) throw this.table.notFound(workerId);
    return group.replicas.map((replica) => replica.id);
  }

  // ---- calls ----------------------------------------------------------------------------------

  /**
   * Call a module action wherever it runs (function call, postMessage or IPC), through the
   * middleware. `target` is a replica id (that replica), or a worker or service name: then the
   * router picks a healthy replica by the worker's balancer, under its resilience policy.
   */
  call(target: string, action: string, input?: unknown, options?: CallOptions): Promise<unknown> {
    const chain = this.callChain;
    if (chain === undefined) return this.route(target, action, input, options);
    return chain({ target, action, input, options });
  }

  /**
   * A typed proxy over {@link call}.
   * @example
   * const greeter = master.client<typeof import('./greeter.js').default>('greeter');
   * const text = await greeter.greet('Ada'); // typed input and output
   */
  client<T>(target: string): Client<T> {
    // The proxy is the prototype: the first access defines the method on the object itself, so
    // later calls are plain property reads (no trap, no new closure per call).
    const trap = new Proxy({} as Record<string, unknown>, {
      get: (_target, action, receiver: object) => {
        if (typeof action !== 'string' || action === 'then') return undefined; // not a thenable
        const method = (input: unknown, options?: CallOptions): Promise<unknown> => this.call(target, action, input, options);
        Object.defineProperty(receiver, action, { value: method, enumerable: true });
        return method;
      },
    });
    return Object.create(trap) as Client<T>;
  }

  private route(target: string, action: string, input: unknown, options: CallOptions | undefined): Promise<unknown> {
    const replica = this.table.replica(target);
    // Hot path: a single, unrouted worker is called directly.
    if (replica !== undefined && !(replica.id === replica.group.id && routed(replica.group.config))) return replica.controller.call(action, input, options);
    const group = this.table.group(target);
    const service = group === undefined ? target : serviceOf(group.config);
    if (service !== undefined && (group !== undefined || this.services.has(service))) return this.services.call(service, action, input, options ?? {});
    return Promise.reject(this.table.notFound(target));
  }

  private callReplica(replicaId: string, action: string, input: unknown, options: CallOptions | undefined): Promise<unknown> {
    const replica = this.table.replica(replicaId);
    if (replica === undefined) return Promise.reject(this.table.notFound(replicaId));
    return replica.controller.call(action, input, options);
  }

  // ---- start and shutdown ---------------------------------------------------------------------

  /**
   * Start every enabled worker, dependencies first (config order otherwise). A failing worker does
   * not stop the others; those that depend on it fail with HSU_ERR_DEPENDENCY_FAILED.
   */
  async start(): Promise<StartResult[]> {
    this.assertOpen();
    await this.decideOrphans();
    const results: StartResult[] = [];
    for (const id of dependencyOrder(this.table.allGroups().map((g) => g.config))) {
      const group = this.table.group(id);
      if (group === undefined || !group.config.enabled) continue;
      if (this.shuttingDown !== undefined) break; // a signal arrived mid-start: launch nothing more
      this.ensureScaling(group);
      const idle = group.replicas.filter((r) => (OPERATIONS.start as readonly WorkerState[]).includes(r.controller.state));
      if (idle.length === 0) continue;
      try {
        if (group.config.depends_on.length > 0) await awaitDependencies(this.dependencyHost, group.config, group.config.start_timeout);
      } catch (error) {
        for (const r of idle) results.push(failed(r.id, error, this.logger));
        continue;
      }
      const outcomes = await Promise.allSettled(idle.map((r) => r.controller.start()));
      outcomes.forEach((outcome, i) => {
        const replica = idle[i]!;
        results.push(outcome.status === 'fulfilled' ? { id: replica.id, ok: true } : failed(replica.id, outcome.reason, this.logger));
      });
    }
    this.heapTrim.schedule();
    return results;
  }

  /** True once shutdown() has begun. */
  get closing(): boolean {
    return this.shuttingDown !== undefined;
  }

  /**
   * Stop every worker, dependents first. After `shutdownTimeoutMs` (or at once with `force`, also
   * for a shutdown already under way) the rest are force-stopped together; resolves when nothing
   * runs and everything the master installed is given back. Idempotent.
   */
  shutdown(options: { force?: boolean } = {}): Promise<ShutdownReport> {
    this.shuttingDown ??= this.doShutdown();
    if (options.force === true) this.forceShutdown?.('forced shutdown requested');
    return this.shuttingDown;
  }

  private async doShutdown(): Promise<ShutdownReport> {
    const started = Date.now();
    this.heapTrim.close();
    await Promise.all([...this.scaling.values()].map((loop) => loop.close()));
    // Leave the cluster first: the others stop routing here at once, calls in flight finish.
    await this.cluster?.cluster.leave().catch((err: unknown) => this.logger.warn({ err }, 'leaving the cluster failed'));
    // Dependents before what they depend on: the reverse of the start order.
    const order = dependencyOrder(this.table.allGroups().map((g) => g.config))
      .reverse()
      .flatMap((id) => this.table.group(id)?.replicas ?? []);
    // First, before any await: a restart half-way through must not launch behind our back.
    for (const { controller } of order) controller.close();
    let forcing = false;
    // Force-stopped workers end as requested stops, so nothing is restarted on the way out.
    this.forceShutdown = (why) => {
      if (forcing) return;
      forcing = true;
      this.logger.warn({ timeout_ms: this.shutdownTimeoutMs }, `${why}; forcing remaining workers`);
      for (const replica of order) void stopQuietly(replica, true);
    };
    const deadline = setTimeout(() => this.forceShutdown?.('shutdown deadline passed'), this.shutdownTimeoutMs);
    try {
      // Replicas of one worker stop together; workers one after the other.
      for (const group of groupsOf(order)) await Promise.all(group.map((replica) => stopQuietly(replica, forcing)));
    } finally {
      clearTimeout(deadline);
      this.forceShutdown = undefined;
    }
    // A master that never started never decided about what its predecessor left: nothing of it may outlive us.
    if (this.orphanDecision === undefined) for (const orphan of this.facilities.orphans) this.facilities.pids?.kill(orphan);
    // Nothing can start after shutdown: the workers' log files can be closed.
    await Promise.all(order.map(({ runtime }) => releaseRuntime(runtime, this.logger)));
    this.services.close();
    await this.cluster?.cluster.close().catch((err: unknown) => this.logger.warn({ err }, 'closing the cluster connection failed'));
    this.busClosed = true;
    this.bus.close();
    await this.facilities.close();
    const report: ShutdownReport = { forced: forcing, duration_ms: Date.now() - started };
    this.logger.info(report, 'shutdown complete');
    return report;
  }

  // ---- replicas and scaling -------------------------------------------------------------------

  private async startAfterDependencies(group: WorkerGroup, replicas: readonly Replica[]): Promise<void> {
    for (const dep of group.config.depends_on) {
      const depGroup = this.table.group(dep.worker);
      if (depGroup === undefined || !depGroup.replicas.some((r) => (OPERATIONS.start as readonly WorkerState[]).includes(r.controller.state))) continue;
      try {
        await this.startWorker(dep.worker);
      } catch (error) {
        // The dependent's failure is that its dependency is not up; the dependency's own error is the cause.
        throw hsuError('DEPENDENCY_FAILED', `worker '${group.id}' depends on '${dep.worker}' (${dep.condition}), which failed to start: ${(error as Error).message}`, { worker_id: group.id, dependency: dep.worker, condition: dep.condition }, error);
      }
    }
    await awaitDependencies(this.dependencyHost, group.config, group.config.start_timeout);
    await startAll(replicas);
  }

  /** Autoscaling begins with the worker's first start. */
  private ensureScaling(group: WorkerGroup): void {
    if (this.scaling.has(group.id) || group.config.autoscale === undefined) return;
    const service = serviceOf(group.config) ?? group.id;
    const loop = startAutoscaling(group, service, {
      logger: this.logger,
      inFlight: (name) => this.services.router.load(name).in_flight,
      addReplica: async (g) => {
        const replica = buildReplica(g, freeIndex(g), this.deps);
        this.table.addReplica(replica);
        this.events.emit('added', { worker_id: replica.id, type: g.config.type, runtime: replica.runtime.kind });
        await replica.controller.start();
      },
      removeOne: async (g) => {
        // A replica that is not serving (failed, waiting to restart, unhealthy) goes first; else the highest-numbered.
        const victim = g.replicas.findLast((r) => r.controller.state !== 'running' || r.controller.diagnostics().health.status === 'unhealthy') ?? g.replicas.at(-1);
        if (victim === undefined) return;
        // Taken out of the balancer first: the router stops picking it before it is told to stop.
        if (this.services.registry.get(victim.id) !== undefined) this.services.registry.setHealth(victim.id, 'unhealthy');
        await stopQuietly(victim, false);
        await this.dropReplica(victim);
      },
      replace: (replicaId) => this.table.one(replicaId).controller.restart(),
      decided: (decision) => {
        this.logger.info({ worker: group.id, ...decision }, `autoscale: ${decision.action} (${decision.reason})`);
        this.publish('scale', { worker_id: group.id, ...decision });
      },
    });
    if (loop !== undefined) this.scaling.set(group.id, loop);
  }

  private async dropReplica(replica: Replica): Promise<void> {
    replica.controller.close();
    this.services.remove(replica.id);
    this.table.deleteReplica(replica);
    await releaseRuntime(replica.runtime, this.logger);
    this.events.emit('removed', { worker_id: replica.id });
  }

  // ---- internals ------------------------------------------------------------------------------

  private readonly dependencyHost: DependencyHost = {
    config: (id) => this.table.group(id)?.config,
    // A worker is up when every replica is; one replica's facts stand for the worker's.
    state: (id) => this.table.group(id)?.replicas[0]?.controller.state ?? 'idle',
    health: (id) =>
      this.table.group(id)?.replicas[0]?.controller.diagnostics().health ?? { status: 'unknown', checked_at: null, latency_ms: null, consecutive_failures: 0, consecutive_successes: 0 },
    once: (name, filter, signal) => this.events.once(name, filter, signal),
  };

  /** Adopts or kills what a dead master left running, once, before anything of this master starts. */
  private decideOrphans(): Promise<void> {
    const pids = this.facilities.pids;
    if (pids === undefined || (this.facilities.orphans.length === 0 && this.facilities.predecessorCgroups.length === 0)) return Promise.resolve();
    this.orphanDecision ??= resolveOrphans(
      {
        logger: this.logger,
        pids,
        entry: (worker) => {
          const replica = this.table.replica(worker);
          return replica === undefined ? undefined : { config: replica.group.config, controller: replica.controller, runtime: replica.runtime };
        },
        cgroups: () => this.facilities.cgroups(),
      },
      this.facilities.orphans,
      this.facilities.predecessorCgroups,
    );
    return this.orphanDecision;
  }

  /** Gives back what the constructor took (lock, hooks) for a master that never started. */
  private abandon(): void {
    this.shuttingDown = Promise.resolve({ forced: false, duration_ms: 0 });
    this.facilities.abandon();
  }

  private publish(name: keyof MasterEvents, event: unknown): void {
    if (name === 'state') {
      const e = event as MasterEvents['state'];
      const level = e.to === 'failed' || e.to === 'failed_start' ? 'error' : e.to === 'waiting_restart' ? 'warn' : 'info';
      this.logger[level]({ worker: e.worker_id, from: e.from, to: e.to, pid: e.pid, ...(e.reason === undefined ? {} : { reason: e.reason }), ...(e.cause === undefined ? {} : { cause: e.cause }) }, 'state');
      const replica = this.table.replica(e.worker_id);
      if (replica !== undefined) this.services.onState(replica, e);
    } else if (name === 'restart') {
      const e = event as MasterEvents['restart'];
      this.logger.info({ worker: e.worker_id, cause: e.cause, attempt: e.attempt, delay_ms: e.delay_ms }, 'restart scheduled');
    } else if (name === 'health') {
      const e = event as MasterEvents['health'];
      const replica = this.table.replica(e.worker_id);
      if (replica !== undefined) this.services.onHealth(replica, e);
    }
    this.events.emit(name, event as never);
    this.publishOnBus(`hsu.${name}`, event);
  }

  /** The lifecycle on the modules' bus; a bus already closed (shutdown) takes nothing more. */
  private publishOnBus(topic: string, payload: unknown): void {
    if (this.shuttingDown !== undefined && this.busClosed) return;
    try {
      this.bus.publish(topic, payload);
    } catch (err) {
      this.logger.debug({ err, topic }, 'not published on the bus');
    }
  }

  private busClosed = false;

  private assertOpen(): void {
    if (this.shuttingDown !== undefined) throw hsuError('MASTER_SHUT_DOWN', 'the master is shutting down; no new work is accepted');
  }
}

function startAll(replicas: readonly Replica[]): Promise<void> {
  if (replicas.length === 1) return replicas[0]!.controller.start();
  return Promise.all(replicas.map((replica) => replica.controller.start())).then(() => undefined);
}

function failed(id: string, error: unknown, logger: Logger): StartResult {
  const e = error as { code?: string; message?: string };
  logger.error({ worker: id, code: e.code, err: error }, 'worker failed to start');
  return { id, ok: false, error: { code: e.code ?? 'HSU_ERR_UNKNOWN', message: e.message ?? String(error) } };
}

/** Consecutive replicas of the same worker, together. */
function groupsOf(replicas: readonly Replica[]): Replica[][] {
  const out: Replica[][] = [];
  for (const replica of replicas) {
    const last = out.at(-1);
    if (last !== undefined && last[0]?.group === replica.group) last.push(replica);
    else out.push([replica]);
  }
  return out;
}

/** Runtimes that capture output keep log files open across restarts; release them once the worker is gone for good. */
async function releaseRuntime(runtime: Runtime, logger: Logger): Promise<void> {
  try {
    await runtime.close?.();
  } catch (err) {
    logger.warn({ err }, 'could not close worker log files');
  }
}

/** A shutdown's stop: forced or not, and letting go of what the master may not stop (unmanaged). */
async function stopQuietly(replica: Replica, force: boolean): Promise<void> {
  const state = replica.controller.state;
  if (state !== 'stopping' && !(OPERATIONS.stop as readonly WorkerState[]).includes(state)) return;
  await replica.controller.stop({ force, detach: true }).catch(() => undefined);
}
