/**
 * A master's membership of a cluster (`master.cluster` in the config), kept out of the master's
 * own file: the cluster is joined before the master exists (its registry replaces the master's
 * local one, so it must be there at construction), its calls reach the master once it is built,
 * and its events go to the master's log. Loaded only for a config with a `cluster:` block, so a
 * lone master never loads anything of NATS.
 *
 * A remote call carries the caller's trace context as NATS headers (`traceparent`, `tracestate`)
 * and is served inside it, so the serving master's call span is a child of the caller's. The hook
 * is looked up at each call: tracing starts after the cluster is joined, and may stop before.
 */
import type { Logger } from 'pino';
import type { Cluster, ClusterEvent } from '../cluster/index.js';
import type { ClusterConfig, ClusterConfigInput } from '../cluster/config.js';
import { hsuError } from '../errors.js';
import type { CallRequestOptions } from '../mesh/call.js';
import { callContextHook } from '../observability/call-context.js';

/** What the cluster needs of the master: its direct call to one of its replicas. */
export interface ClusterCallTarget {
  call(id: string, action: string, input: unknown, options?: CallRequestOptions): Promise<unknown>;
}

export interface ClusterLink {
  readonly cluster: Cluster;
  /** Points the cluster's incoming calls at the master, once it is built. */
  bind(master: ClusterCallTarget): void;
  /** The cluster's events an operator is told of (isNotableClusterEvent); ends with the cluster's close(). */
  onNotable(listener: (event: ClusterEvent) => void): () => void;
}

/** Joins the cluster; rejects with CLUSTER_NODE_NAME_TAKEN when a live master holds the node name. */
export async function joinCluster(config: ClusterConfigInput | ClusterConfig, logger: Logger): Promise<ClusterLink> {
  const { Cluster, isNotableClusterEvent } = await import('../cluster/index.js');
  let target: ClusterCallTarget | undefined;
  const cluster = await Cluster.start(config, {
    call: (id, action, input, options) => {
      if (target === undefined) return Promise.reject(hsuError('CALL_NOT_RUNNING', `this master is still starting; worker '${id}' cannot be called yet`, { worker_id: id }));
      return target.call(id, action, input, options);
    },
    trace: () => callContextHook()?.inject(),
    with_trace: (carrier, run) => {
      const hook = callContextHook();
      return hook === undefined ? run() : hook.extract(carrier, run);
    },
    logger,
    on_subscriber_error: (err) => logger.error({ err }, 'a service registry subscriber threw; ignored'),
  });
  cluster.on((event) => logClusterEvent(logger, event));
  return {
    cluster,
    bind: (master) => void (target = master),
    onNotable: (listener) => cluster.on((event) => (isNotableClusterEvent(event) ? listener(event) : undefined)),
  };
}

function logClusterEvent(logger: Logger, event: ClusterEvent): void {
  if (event.type === 'error') logger.warn({ code: event.code }, `cluster: ${event.message}`);
  else if (event.type === 'lease') logger.info({ lease: event.state, ...(event.took_over === true ? { took_over: true } : {}) }, 'cluster node name lease');
  else if (event.type === 'connecting') logger.debug({ connection: event.connection, attempt: event.attempt, error: event.error, retry_in_ms: event.retry_in_ms }, 'cluster: connecting to NATS');
  else if (event.type === 'disconnected') logger.warn({ connection: event.connection, server: event.server }, 'cluster: NATS connection lost; serving locally until it is back');
  else logger.info({ connection: event.connection, state: event.type, ...('server' in event ? { server: event.server } : {}) }, 'cluster connection');
}
