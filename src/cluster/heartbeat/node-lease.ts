/**
 * The node name as a lease: a key in the nodes bucket, created only if absent (KV create), owned
 * by this master's session and refreshed by compare-and-set on its revision. The bucket's max age
 * is the TTL, so a lease that stops being refreshed is gone within it. A lease held by a dead
 * process on this same host (a master restarted after `kill -9`) is taken over at once.
 *
 * One operation runs at a time: a refresh that finds the key expired clears its revision while it
 * claims the name again, and a second refresh started in that window (the heartbeat's tick racing
 * a rejoin after a reconnect) would read "not held" and report the lease lost for good.
 */
import type { KV } from '@nats-io/kv';
import { isWrongSequence, processAlive as alive } from '../buckets.js';
import { nodeRecordSchema, parseRecord, type NodeRecord } from '../records.js';

export type LeaseOutcome = { readonly state: 'acquired'; readonly took_over: boolean } | { readonly state: 'refused'; readonly holder: NodeRecord };

export class NodeLease {
  private revision: number | undefined;
  /** The operation in flight; the next one starts after it settles. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly kv: KV,
    private readonly key: string,
    private readonly record: () => NodeRecord,
  ) {}

  get held(): boolean {
    return this.revision !== undefined;
  }

  acquire(): Promise<LeaseOutcome> {
    return this.serial(() => this.claim());
  }

  /** Refreshes the lease; false when it was lost (expired and taken by another session). */
  refresh(): Promise<boolean> {
    return this.serial(() => this.renew());
  }

  /** Gives the name back (only if still ours), so a successor need not wait for the TTL. */
  release(): Promise<void> {
    return this.serial(async () => {
      const revision = this.revision;
      this.revision = undefined;
      if (revision === undefined) return;
      await this.kv.delete(this.key, { previousSeq: revision });
    });
  }

  private serial<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.queue.then(operation, operation);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async claim(): Promise<LeaseOutcome> {
    const mine = this.record();
    for (let tries = 0; tries < 5; tries++) {
      try {
        this.revision = await this.kv.create(this.key, JSON.stringify(mine));
        return { state: 'acquired', took_over: false };
      } catch (err) {
        if (!isWrongSequence(err)) throw err;
      }
      const entry = await this.kv.get(this.key);
      if (entry === null || entry.operation !== 'PUT') continue; // expired or deleted meanwhile: create again
      const holder = parseRecord(nodeRecordSchema, entry.value);
      const ours = holder?.session === mine.session;
      // A record we cannot read, or our own predecessor that died on this host: safe to take.
      const predecessor = holder !== undefined && holder.host === mine.host && holder.pid !== process.pid && !alive(holder.pid);
      if (holder !== undefined && !ours && !predecessor) return { state: 'refused', holder };
      try {
        this.revision = await this.kv.update(this.key, JSON.stringify(mine), entry.revision);
        return { state: 'acquired', took_over: !ours };
      } catch (err) {
        if (!isWrongSequence(err)) throw err;
      }
    }
    throw new Error(`the lease ${this.key} kept changing while it was being acquired`);
  }

  private async renew(): Promise<boolean> {
    if (this.revision === undefined) return false;
    const mine = this.record();
    try {
      this.revision = await this.kv.update(this.key, JSON.stringify(mine), this.revision);
      return true;
    } catch (err) {
      if (!isWrongSequence(err)) throw err;
    }
    // Our last update may have been stored with its answer lost, or the key expired while we were cut off.
    const entry = await this.kv.get(this.key);
    const holder = entry?.operation === 'PUT' ? parseRecord(nodeRecordSchema, entry.value) : undefined;
    if (entry !== null && holder?.session === mine.session) {
      this.revision = entry.revision;
      return this.renew();
    }
    this.revision = undefined;
    if (entry === null || entry.operation !== 'PUT') return (await this.claim()).state === 'acquired';
    return false;
  }
}
