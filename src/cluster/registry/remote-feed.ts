/**
 * Keeps the local view true to the cluster: a KV watch over every instance record of the cluster
 * (other masters' records go into the ClusterRegistry, with their TTL) and one over the node
 * leases (a deleted lease removes that master's instances at once; the list of nodes is the
 * cluster view's). Entries that do not parse are skipped and counted, never trusted.
 *
 * A watch does not end when its bucket is deleted (`nats kv rm`): the client's consumer waits on a
 * stream that is gone, and on the one created in its place it waits for sequence numbers the new
 * stream reaches only much later. So once per TTL (at least 500 ms) each bucket's stream is looked at, and a watch
 * whose stream is gone or was created again (a new creation time) is started afresh, as is one
 * that ended on its own. `restarts` counts them (the cluster's diagnostics show it).
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

interface Followed {
  readonly bucket: string;
  readonly key: string;
  readonly handle: (entry: KvWatchEntry) => void;
  /** The bucket by name: its status reads whatever stream has that name now. */
  kv: KV;
  watch: QueuedIterator<KvWatchEntry>;
  /** The creation time of the stream the watch reads: another one means the bucket was made again. */
  created: string;
}

export class RemoteFeed {
  readonly nodes = new Map<string, SeenNode>();
  skipped = 0;
  /** Watches started again because their bucket was deleted or re-created, or they ended. */
  restarts = 0;
  private followed: Followed[] = [];
  private loops: Promise<void>[] = [];
  private stopped = false;
  private nc: NatsConnection | undefined;
  private checker: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private checkStarted = 0;

  constructor(
    private readonly registry: ClusterRegistry,
    private readonly names: ClusterNames,
    private readonly ttl: number,
    private readonly now: () => number = Date.now,
  ) {}

  async start(nc: NatsConnection): Promise<void> {
    this.nc = nc;
    await this.follow(this.names.registryBucket, this.names.allInstances, (entry) => this.onInstance(entry));
    await this.follow(this.names.nodesBucket, '>', (entry) => this.onNode(entry));
    if (this.stopped) return;
    const every = Math.max(this.ttl, 500);
    this.checker = setInterval(() => {
      // One check at a time; one that has hung on a request for ten rounds no longer holds the next back.
      if (this.checking !== undefined && Date.now() - this.checkStarted < 10 * every) return;
      const run = this.check().catch(() => undefined); // a check that fails is tried again next round
      this.checking = run;
      this.checkStarted = Date.now();
      void run.finally(() => {
        if (this.checking === run) this.checking = undefined;
      });
    }, every);
    this.checker.unref(); // the connection keeps the process alive, never this check
  }

  /** Live nodes: leases refreshed within their TTL. */
  liveNodes(): SeenNode[] {
    const now = this.now();
    return [...this.nodes.values()].filter((seen) => now - seen.seen_at <= seen.record.ttl);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.checker);
    await this.checking; // a check under way opens no watch once it sees the stop
    for (const followed of this.followed) followed.watch.stop();
    this.followed = [];
    await Promise.all(this.loops);
    this.loops = [];
  }

  private async follow(bucket: string, key: string, handle: (entry: KvWatchEntry) => void): Promise<void> {
    const opened = await this.openWatch(bucket, key);
    if (opened === undefined) return;
    const followed: Followed = { bucket, key, handle, ...opened };
    this.followed.push(followed);
    this.consume(followed, opened.watch);
  }

  /** The bucket (created if missing, as every master does) and a watch over it; undefined once stopped. */
  private async openWatch(bucket: string, key: string): Promise<{ kv: KV; watch: QueuedIterator<KvWatchEntry>; created: string } | undefined> {
    const kv = await openBucket(this.nc!, bucket, { ttl: this.ttl });
    const watch = await kv.watch({ key });
    // A watch is never left unread (it would queue every record until the connection closes).
    const created = await createdAt(kv);
    if (created === undefined || this.stopped) {
      watch.stop();
      if (this.stopped) return undefined;
      throw new Error(`cannot read the status of the ${bucket} bucket`);
    }
    return { kv, watch, created };
  }

  private consume(followed: Followed, watch: QueuedIterator<KvWatchEntry>): void {
    const loop = (async () => {
      for await (const entry of watch) {
        if (this.stopped) break;
        followed.handle(entry);
      }
    })()
      .catch(() => undefined)
      .then(() => {
        // Ended on its own (not replaced, not stopped): follow again at the next check.
        if (!this.stopped && followed.watch === watch) followed.created = '';
      });
    this.loops.push(loop);
    void loop.finally(() => {
      this.loops = this.loops.filter((other) => other !== loop);
    });
  }

  /** Each bucket's stream as it is now; a watch that no longer reads it starts again. */
  private async check(): Promise<void> {
    for (const followed of this.followed) {
      if (this.stopped || this.nc === undefined || this.nc.isClosed()) return;
      // Undefined: gone, or NATS away (then opening a new watch fails too, and the next check decides).
      if ((await createdAt(followed.kv)) === followed.created || this.stopped) continue;
      const opened = await this.openWatch(followed.bucket, followed.key).catch(() => undefined);
      if (opened === undefined) continue; // openWatch stops its own watch when it sees the stop
      const old = followed.watch;
      followed.kv = opened.kv;
      followed.watch = opened.watch;
      followed.created = opened.created;
      old.stop();
      this.restarts += 1;
      this.consume(followed, opened.watch);
    }
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

/** When the stream behind `kv` was created; undefined when there is none (or no answer). */
function createdAt(kv: KV): Promise<string | undefined> {
  return kv.status().then(
    (status) => status.streamInfo.created,
    () => undefined,
  );
}
