/**
 * One master's membership of a cluster, as the pieces the master plugs in: the shared registry
 * (`registry`, a ServiceRegistry for its router), `invoke(local)` (the router's invoke: local
 * instances through the master, others over NATS), the responder serving this node's calls
 * through `deps.call`, and the cluster view. Start order: main connection → heartbeat thread (own
 * connection) → node lease → responder → records published. NATS down at start: the master runs
 * locally and all of this happens when NATS comes back. Leaving is the reverse (see leave()).
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import { hsuError } from '../errors.js';
import type { Invoke } from '../mesh/router/route.js';
import { RemoteInvoker, type TraceHeaders } from './calls/remote-invoker.js';
import { CallResponder, type LocalCall, type WithTrace } from './calls/responder.js';
import { parseClusterConfig, type ClusterConfig, type ClusterConfigInput } from './config.js';
import { ClusterConnection, type ConnectionEvent } from './connection.js';
import { Heartbeat } from './heartbeat/heartbeat.js';
import type { LeaseState } from './heartbeat/protocol.js';
import { clusterNames, type ClusterNames } from './keys.js';
import { toRecord, type NodeRecord, type Origin } from './records.js';
import { ClusterRegistry } from './registry/cluster-registry.js';
import { RemoteFeed } from './registry/remote-feed.js';
import { buildClusterView, type ClusterView } from './view.js';

export interface ClusterDeps {
  /** The master's own call to one of its replicas: `(id, ...) => master.call(id, ...)`. */
  readonly call: LocalCall;
  readonly logger?: Logger;
  readonly trace?: TraceHeaders;
  readonly with_trace?: WithTrace;
  readonly on_subscriber_error?: (error: unknown) => void;
  /** How long start() waits for the node-name lease when NATS is reachable. Default max(5 s, 2 × ttl). */
  readonly lease_wait_ms?: number;
  /** How long leave() lets remote calls in flight finish. Default 5 s. */
  readonly drain_ms?: number;
}

export type ClusterEvent =
  | (ConnectionEvent & { readonly connection: 'main' | 'heartbeat' })
  | { readonly type: 'lease'; readonly state: LeaseState; readonly holder?: NodeRecord; readonly took_over?: boolean }
  | { readonly type: 'error'; readonly message: string; readonly code?: string };

/**
 * Whether an event is worth telling an operator: every change, and of a retry loop while the first
 * connection is being made only every tenth failed attempt (the log's warn and the master's events).
 */
export function isNotableClusterEvent(event: ClusterEvent | ConnectionEvent): boolean {
  return event.type !== 'connecting' || (event.error !== undefined && event.attempt % 10 === 0);
}

export class Cluster {
  readonly config: ClusterConfig;
  readonly node: string;
  readonly names: ClusterNames;
  readonly registry: ClusterRegistry;
  readonly invoker: RemoteInvoker;
  readonly responder: CallResponder;
  readonly connection: ClusterConnection;
  readonly feed: RemoteFeed;
  private readonly heartbeat: Heartbeat;
  private readonly origin: Origin;
  private readonly startedAt = Date.now();
  private readonly listeners = new Set<(event: ClusterEvent) => void>();
  private readonly logger: Logger | undefined;
  private readonly drainMs: number;
  private joined = false;
  private leaseState: LeaseState = 'pending';
  private leaving: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private leaseWaiter: ((state: LeaseState, holder?: NodeRecord) => void) | undefined;

  private constructor(config: ClusterConfig, private readonly deps: ClusterDeps) {
    this.config = config;
    this.node = config.node;
    this.names = clusterNames(config.name);
    this.logger = deps.logger?.child({ cluster: config.name, node: config.node });
    this.drainMs = deps.drain_ms ?? 5_000;
    this.origin = { node: config.node, host: os.hostname(), pid: process.pid, session: randomUUID(), ttl: config.ttl };
    this.heartbeat = new Heartbeat(
      { settings: config, origin: this.origin, interval: config.heartbeat_interval, stall_limit: config.stall_limit, started_at: this.startedAt },
      {
        lease: (state, detail) => this.onLease(state, detail.holder, detail.took_over),
        connection: (event) => this.emit({ ...event, connection: 'heartbeat' }),
        error: (message, code) => this.emit({ type: 'error', message, ...(code === undefined ? {} : { code }) }),
      },
    );
    this.registry = new ClusterRegistry({
      // Expiry is checked this often: a silent master leaves within ttl + ttl/10 of its last heartbeat.
      sweep_interval: Math.max(20, Math.min(500, config.ttl / 10)),
      node: config.node,
      prefer_local: config.prefer_local,
      publish: (instance, removed) => {
        const key = this.names.instanceKey(this.node, instance.id);
        if (removed) this.heartbeat.delete(key);
        else this.heartbeat.put(key, JSON.stringify(toRecord(instance, this.origin)));
      },
      ...(deps.on_subscriber_error === undefined ? {} : { on_subscriber_error: deps.on_subscriber_error }),
    });
    this.connection = new ClusterConnection(config, 'main');
    this.invoker = new RemoteInvoker({
      connection: this.connection,
      names: this.names,
      request_timeout: config.request_timeout,
      on_unreachable: (node) => this.registry.suspect(node),
      ...(deps.trace === undefined ? {} : { trace: deps.trace }),
    });
    this.responder = new CallResponder({ names: this.names, node: this.node, call: deps.call, ...(deps.with_trace === undefined ? {} : { with_trace: deps.with_trace }) });
    this.feed = new RemoteFeed(this.registry, this.names, config.ttl);
    this.connection.on((event) => this.onConnection(event));
  }

  /**
   * Joins the cluster described by `input` (a `cluster:` block). Resolves once joined, or at once
   * when NATS is unreachable (the master runs locally and joins later, saying so). Rejects with
   * CLUSTER_NODE_NAME_TAKEN when another live master holds the node name.
   */
  static async start(input: ClusterConfigInput | ClusterConfig, deps: ClusterDeps): Promise<Cluster> {
    const cluster = new Cluster(parseClusterConfig(input), deps);
    try {
      await cluster.begin();
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  on(listener: (event: ClusterEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The router's invoke: this master's instances through `local`, every other one over NATS. */
  invoke(local: Invoke): Invoke {
    const node = this.node;
    const remote = this.invoker.invoke;
    return (instance, action, input, options) => (instance.node === node ? local(instance, action, input, options) : remote(instance, action, input, options));
  }

  view(): ClusterView {
    return buildClusterView({
      cluster: this.config.name,
      node: this.node,
      connection: this.connection.status,
      lease: this.heartbeat.lease,
      self: { host: this.origin.host, pid: this.origin.pid, started_at: this.startedAt, loop_lag_ms: this.heartbeat.last?.loop_lag_ms ?? null },
      instances: this.registry.services().flatMap((service) => this.registry.instances(service)),
      nodes: this.feed.liveNodes(),
      now: Date.now(),
    });
  }

  diagnostics(): Record<string, unknown> {
    return {
      cluster: this.config.name,
      node: this.node,
      connection: this.connection.status,
      lease: this.heartbeat.lease,
      last_beat: this.heartbeat.last ?? null,
      remote_calls_in_flight: this.invoker.inFlight,
      served_calls: this.responder.served,
      serving_in_flight: this.responder.inFlight,
      skipped_records: this.feed.skipped,
      watch_restarts: this.feed.restarts,
    };
  }

  /**
   * Leaves the cluster first when the master shuts down: this master's records are deleted and
   * its name released (others stop routing here at once), then remote calls in flight finish.
   */
  leave(): Promise<void> {
    this.leaving ??= (async () => {
      await this.heartbeat.stop();
      await this.responder.stop(this.drainMs);
    })();
    return this.leaving;
  }

  /** Leaves (if not yet), then closes every subscription, watch, the registry and the connection. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.leave();
      this.invoker.close();
      await this.feed.stop();
      this.registry.close();
      await this.connection.close();
      this.listeners.clear();
    })();
    return this.closing;
  }

  private async begin(): Promise<void> {
    const connected = await this.connection.start();
    if (!connected) {
      this.logger?.warn({ servers: this.config.servers }, 'cluster: NATS is not reachable; running locally and joining when it is back');
      return;
    }
    const wait = this.deps.lease_wait_ms ?? Math.max(5_000, 2 * this.config.ttl);
    const outcome = await new Promise<{ state: LeaseState; holder?: NodeRecord }>((resolve) => {
      const timer = setTimeout(() => resolve({ state: 'pending' }), wait);
      this.leaseWaiter = (state, holder) => {
        clearTimeout(timer);
        resolve({ state, ...(holder === undefined ? {} : { holder }) });
      };
    });
    this.leaseWaiter = undefined;
    if (outcome.state === 'refused') {
      const holder = outcome.holder;
      throw hsuError('CLUSTER_NODE_NAME_TAKEN', `node name '${this.node}' is held in cluster '${this.config.name}' by a live master${holder === undefined ? '' : ` (pid ${holder.pid} on ${holder.host})`}; give this master another cluster.node`, {
        node: this.node,
        cluster: this.config.name,
        holder_host: holder?.host ?? null,
        holder_pid: holder?.pid ?? null,
      });
    }
    if (outcome.state === 'pending') this.logger?.warn({ wait_ms: wait }, 'cluster: the node-name lease is not settled yet; going on, joining when it is');
  }

  private onConnection(event: ConnectionEvent): void {
    this.emit({ ...event, connection: 'main' });
    if (event.type === 'connected') {
      this.registry.setConnected(true);
      void this.join();
    } else if (event.type === 'reconnected') {
      this.registry.setConnected(true);
      this.logger?.info({ server: event.server }, 'cluster: reconnected to NATS; remote calls resume');
    } else if (event.type === 'disconnected') {
      this.registry.setConnected(false);
      this.logger?.warn({ server: event.server }, 'cluster: lost NATS; local calls go on, remote calls fail fast until it is back');
    } else if (event.type === 'connecting' && isNotableClusterEvent(event)) {
      this.logger?.warn({ attempt: event.attempt, error: event.error, retry_in_ms: event.retry_in_ms }, 'cluster: NATS still unreachable');
    }
  }

  /** Everything that needs the main connection, once it exists (it survives reconnects). */
  private async join(): Promise<void> {
    if (this.joined) return;
    this.joined = true;
    const nc = this.connection.any;
    if (nc === undefined) return;
    try {
      await this.invoker.start(nc);
      await this.feed.start(nc);
      this.heartbeat.start();
      this.logger?.info({ server: nc.getServer() }, 'cluster: connected to NATS; claiming the node name');
    } catch (err) {
      this.emit({ type: 'error', message: `joining the cluster failed: ${(err as Error).message}` });
    }
  }

  private onLease(state: LeaseState, holder: NodeRecord | undefined, tookOver: boolean | undefined): void {
    const repeated = state === this.leaseState;
    this.leaseState = state;
    this.leaseWaiter?.(state, holder);
    if (repeated) return; // a refused claim is retried every interval: said once
    this.emit({ type: 'lease', state, ...(holder === undefined ? {} : { holder }), ...(tookOver === undefined ? {} : { took_over: tookOver }) });
    const nc = this.connection.any;
    if (state === 'acquired' && nc !== undefined && this.leaving === undefined) {
      this.responder.start(nc);
      // The server has our subscription before anyone can see our records.
      nc.flush().then(
        () => this.heartbeat.serve(true),
        () => this.heartbeat.serve(true),
      );
      this.logger?.info({ took_over: tookOver === true }, 'cluster: joined; serving calls for this node');
    } else if (state === 'refused' || state === 'lost') {
      this.heartbeat.serve(false);
      void this.responder.stop(0);
      this.logger?.error({ holder }, `cluster: node name '${this.node}' is ${state === 'lost' ? 'now held' : 'held'} by another live master; not serving in the cluster`);
    }
  }

  private emit(event: ClusterEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // a listener's failure is its own
      }
    }
  }
}
