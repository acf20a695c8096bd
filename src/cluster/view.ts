/**
 * The cluster as one table (for `hsu cluster ls` and the control API): every live node with its
 * host, heartbeat age, event-loop lag and instances. snake_case, JSON-safe.
 */
import type { ServiceInstance } from '../mesh/registry/schema.js';
import { localIdOf } from './keys.js';
import type { ConnectionState } from './connection.js';
import type { SeenNode } from './registry/remote-feed.js';

export interface ClusterViewInstance {
  readonly id: string;
  readonly service: string;
  readonly health: ServiceInstance['health'];
  readonly endpoint_type: string;
  readonly version: string;
  readonly weight: number;
  readonly load: ServiceInstance['load'];
}

export interface ClusterViewNode {
  readonly node: string;
  readonly self: boolean;
  readonly host: string | null;
  readonly pid: number | null;
  readonly started_at: number | null;
  /** Milliseconds since its lease was last seen refreshed (null for this master). */
  readonly heartbeat_age_ms: number | null;
  readonly loop_lag_ms: number | null;
  readonly instances: ClusterViewInstance[];
}

export interface ClusterView {
  readonly cluster: string;
  readonly node: string;
  readonly connection: ConnectionState;
  /** This master's claim on its node name. */
  readonly lease: string;
  readonly nodes: ClusterViewNode[];
}

export interface ViewSources {
  readonly cluster: string;
  readonly node: string;
  readonly connection: ConnectionState;
  readonly lease: string;
  readonly self: { readonly host: string; readonly pid: number; readonly started_at: number; readonly loop_lag_ms: number | null };
  readonly instances: readonly ServiceInstance[];
  readonly nodes: readonly SeenNode[];
  readonly now: number;
}

function row(instance: ServiceInstance): ClusterViewInstance {
  return {
    id: localIdOf(instance.id, instance.node),
    service: instance.service,
    health: instance.health,
    endpoint_type: instance.endpoint.type,
    version: instance.version,
    weight: instance.weight,
    load: instance.load,
  };
}

export function buildClusterView(sources: ViewSources): ClusterView {
  const byNode = new Map<string, ClusterViewInstance[]>();
  for (const instance of sources.instances) {
    const list = byNode.get(instance.node) ?? [];
    list.push(row(instance));
    byNode.set(instance.node, list);
  }
  const nodes: ClusterViewNode[] = [
    { node: sources.node, self: true, host: sources.self.host, pid: sources.self.pid, started_at: sources.self.started_at, heartbeat_age_ms: null, loop_lag_ms: sources.self.loop_lag_ms, instances: byNode.get(sources.node) ?? [] },
  ];
  const listed = new Set([sources.node]);
  for (const seen of [...sources.nodes].sort((a, b) => a.record.node.localeCompare(b.record.node))) {
    if (listed.has(seen.record.node)) continue;
    listed.add(seen.record.node);
    const r = seen.record;
    nodes.push({ node: r.node, self: false, host: r.host, pid: r.pid, started_at: r.started_at, heartbeat_age_ms: Math.max(0, sources.now - seen.seen_at), loop_lag_ms: r.loop_lag_ms, instances: byNode.get(r.node) ?? [] });
  }
  // Instances whose node lease we have not seen (yet): still listed, under their node.
  for (const [node, instances] of byNode) {
    if (listed.has(node)) continue;
    nodes.push({ node, self: false, host: null, pid: null, started_at: null, heartbeat_age_ms: null, loop_lag_ms: null, instances });
  }
  for (const node of nodes) node.instances.sort((a, b) => a.service.localeCompare(b.service) || a.id.localeCompare(b.id));
  return { cluster: sources.cluster, node: sources.node, connection: sources.connection, lease: sources.lease, nodes };
}
