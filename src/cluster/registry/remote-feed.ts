/**
 * Keeps the local view true to the cluster: a KV watch over every instance record of the cluster
 * (other masters' records go into the ClusterRegistry, with their TTL) and one over the node
 * leases (a deleted lease removes that master's instances at once; the list of nodes is the
 * cluster view's). Entries that do not parse are skipped and counted, never trusted.
 */
import type { KV, KvWatchEntry } from '@nats-io/kv';
import type { NatsConnection, QueuedIterator } from '@nats-io/transport-node';
import { openBucket } from '../buckets.js';
import { parseInstanceKey, type ClusterNames } from '../keys.js';
import { instanceRecordSchema, nodeRecordSchema, parseRecord, type NodeRecord } from '../records.js';
import type { ClusterRegistry } from './cluster-registry.js';

export interface SeenNode {
  readonly record: NodeRecord;
  /** Local clock when its lease was last refreshed (the TTL counts from here, so clock skew does not matter). */
  readonly seen_at: number;
}

export class RemoteFeed {
  readonly nodes = new Map<string, SeenNode>();
  skipped = 0;
  private watches: QueuedIterator<KvWatchEntry>[] = [];
  private loops: Promise<void>[] = [];
  private stopped = false;

  constructor(
    private readonly registry: ClusterRegistry,
    private readonly names: ClusterNames,
    private readonly ttl: number,
    private readonly now: () => number = Date.now,
  ) {}

  async start(nc: NatsConnection): Promise<void> {
    const [instances, nodes] = await Promise.all([openBucket(nc, this.names.registryBucket, { ttl: this.ttl }), openBucket(nc, this.names.nodesBucket, { ttl: this.ttl })]);
    if (this.stopped) return;
    await this.follow(instances, this.names.allInstances, (entry) => this.onInstance(entry));
    await this.follow(nodes, '>', (entry) => this.onNode(entry));
  }

  /** Live nodes: leases refreshed within their TTL. */
  liveNodes(): SeenNode[] {
    const now = this.now();
    return [...this.nodes.values()].filter((seen) => now - seen.seen_at <= seen.record.ttl);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const watch of this.watches) watch.stop();
    this.watches = [];
    await Promise.all(this.loops);
    this.loops = [];
  }

  private async follow(kv: KV, key: string, handle: (entry: KvWatchEntry) => void): Promise<void> {
    const watch = await kv.watch({ key });
    this.watches.push(watch);
    this.loops.push(
      (async () => {
        for await (const entry of watch) {
          if (this.stopped) break;
          handle(entry);
        }
      })().catch(() => undefined),
    );
  }

  private onInstance(entry: KvWatchEntry): void {
    const key = parseInstanceKey(entry.key);
    if (key === undefined) {
      this.skipped++;
      return;
    }
    if (entry.operation !== 'PUT') {
      this.registry.removeRemote(key.node, key.instance);
      return;
    }
    const record = parseRecord(instanceRecordSchema, entry.value);
    if (record === undefined || record.node !== key.node || record.id !== key.instance) {
      this.skipped++;
      return;
    }
    try {
      this.registry.applyRemote(record);
    } catch {
      this.skipped++; // a record the registry refuses (an id or name it cannot hold)
    }
  }

  private onNode(entry: KvWatchEntry): void {
    if (entry.operation !== 'PUT') {
      this.nodes.delete(entry.key);
      this.registry.dropNode(entry.key);
      return;
    }
    const record = parseRecord(nodeRecordSchema, entry.value);
    if (record === undefined || record.node !== entry.key) {
      this.skipped++;
      return;
    }
    this.nodes.set(record.node, { record, seen_at: this.now() });
  }
}
