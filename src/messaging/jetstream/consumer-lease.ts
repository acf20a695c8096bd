/**
 * One consumer of a shared log is run by one worker at a time, cluster-wide: a lease key (KV
 * create-if-absent, refreshed by compare-and-set, gone within the TTL once its holder stops
 * refreshing). A second worker of the same name waits for it (a standby), up to `waitMs`; a holder
 * that died on this same host is taken over at once. A lease lost (cut off past the TTL while
 * another took over) makes every later checkpoint write fail, so two workers never interleave.
 */
import type { KV } from '@nats-io/kv';
import { hsuError } from '../../errors.js';
import { isWrongSequence, processAlive } from '../../cluster/buckets.js';

export interface LeaseOwner {
  readonly session: string;
  readonly host: string;
  readonly pid: number;
}

interface Held {
  revision: number;
  lost: boolean;
  refreshing: boolean;
  readonly timer: NodeJS.Timeout;
}

const decoder = new TextDecoder();

function parseOwner(bytes: Uint8Array): LeaseOwner | undefined {
  try {
    const value = JSON.parse(decoder.decode(bytes)) as Partial<LeaseOwner>;
    return typeof value.session === 'string' && typeof value.host === 'string' && typeof value.pid === 'number' ? (value as LeaseOwner) : undefined;
  } catch {
    return undefined;
  }
}

export class ConsumerLeases {
  private readonly held = new Map<string, Held>();
  private readonly value: string;

  constructor(
    private readonly kv: KV,
    private readonly owner: LeaseOwner,
    private readonly ttlMs: number,
    private readonly waitMs: number,
  ) {
    this.value = JSON.stringify(owner);
  }

  async acquire(key: string, consumer: string): Promise<void> {
    if (this.held.has(key) && this.held.get(key)?.lost !== true) return;
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      const revision = await this.tryAcquire(key);
      if (typeof revision === 'number') {
        this.hold(key, revision);
        return;
      }
      if (Date.now() >= deadline) {
        throw hsuError('CONSUMER_LEASED', `consumer '${consumer}' of this log is run by another live worker (pid ${revision.pid} on ${revision.host}); this one waited ${this.waitMs} ms`, {
          consumer,
          holder_host: revision.host,
          holder_pid: revision.pid,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(Math.max(50, this.ttlMs / 4), Math.max(0, deadline - Date.now()))));
    }
  }

  /** Throws CONSUMER_LEASE_LOST when the lease of `key` is no longer ours. */
  assertHeld(key: string, consumer: string): void {
    const held = this.held.get(key);
    if (held === undefined || held.lost) {
      throw hsuError('CONSUMER_LEASE_LOST', `consumer '${consumer}': this worker's lease is gone (cut off longer than its TTL, or taken over); it must open the consumer again`, { consumer });
    }
  }

  /** Gives every lease back (only those still ours), so a standby takes over at once. */
  async releaseAll(): Promise<void> {
    const held = [...this.held];
    this.held.clear();
    for (const [, lease] of held) clearInterval(lease.timer);
    await Promise.all(held.filter(([, lease]) => !lease.lost).map(([key, lease]) => this.kv.delete(key, { previousSeq: lease.revision }).catch(() => undefined)));
  }

  private async tryAcquire(key: string): Promise<number | LeaseOwner> {
    for (;;) {
      try {
        return await this.kv.create(key, this.value);
      } catch (err) {
        if (!isWrongSequence(err)) throw err;
      }
      const entry = await this.kv.get(key);
      if (entry === null || entry.operation !== 'PUT') continue;
      const holder = parseOwner(entry.value);
      const takeable = holder === undefined || holder.session === this.owner.session || (holder.host === this.owner.host && holder.pid !== this.owner.pid && !processAlive(holder.pid));
      if (!takeable) return holder;
      try {
        return await this.kv.update(key, this.value, entry.revision);
      } catch (err) {
        if (!isWrongSequence(err)) throw err;
      }
    }
  }

  private hold(key: string, revision: number): void {
    const previous = this.held.get(key);
    if (previous !== undefined) clearInterval(previous.timer);
    const timer = setInterval(() => void this.refresh(key), Math.max(50, this.ttlMs / 3));
    timer.unref(); // a lease never keeps a process alive; close() ends it
    this.held.set(key, { revision, lost: false, refreshing: false, timer });
  }

  private async refresh(key: string): Promise<void> {
    const lease = this.held.get(key);
    if (lease === undefined || lease.lost || lease.refreshing) return;
    lease.refreshing = true;
    try {
      lease.revision = await this.kv.update(key, this.value, lease.revision);
    } catch (err) {
      // Other failures (NATS away): try again next interval; the TTL decides.
      if (isWrongSequence(err)) await this.recover(key, lease).catch(() => undefined);
    } finally {
      lease.refreshing = false;
    }
  }

  /**
   * The lease key is not as we left it: expired (a busy event loop or a cut longer than the TTL)
   * or taken. Expired and free: ours again (the checkpoint's compare-and-set still fences a worker
   * that took over meanwhile). Held by another: lost.
   */
  private async recover(key: string, lease: Held): Promise<void> {
    const entry = await this.kv.get(key);
    const holder = entry?.operation === 'PUT' ? parseOwner(entry.value) : undefined;
    if (entry !== null && entry.operation === 'PUT') {
      if (holder?.session === this.owner.session) lease.revision = entry.revision;
      else lease.lost = true;
      return;
    }
    try {
      lease.revision = entry === null ? await this.kv.create(key, this.value) : await this.kv.update(key, this.value, entry.revision);
    } catch (err) {
      if (isWrongSequence(err)) lease.lost = true;
      else throw err;
    }
  }
}
