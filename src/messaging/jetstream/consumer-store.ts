/**
 * Checkpoints and dead letters of a JetStream log, in one KV bucket beside the stream:
 * `pos.<consumer>` holds the position ({last_id, lease_to, lease_runs}, the very shape the
 * CommandWorker keeps), written by compare-and-set on its revision; `dl.<consumer>.<id>` one dead
 * letter each. Why a KV and not durable consumers: a durable consumer's ack floor holds one
 * number and brings its own redelivery, while the worker's delivery counts, poison detection and
 * retries in order need the whole position and must stay the worker's (the same code runs on
 * SQLite). Why not atomic with the letter: JetStream (2.9) has no multi-key commit, so a letter is
 * written before the checkpoint moves past it; a crash between them redelivers the message,
 * whose letter is then updated (attempts added), never lost.
 */
import type { KV } from '@nats-io/kv';
import { hsuError } from '../../errors.js';
import { isWrongSequence } from '../../cluster/buckets.js';
import type { ConsumerPosition, ConsumerStore, DeadLetter, DeadLetterQuery, NewDeadLetter, RedriveOutcome } from '../message-log.js';
import type { ConsumerLeases } from './consumer-lease.js';
import type { LogNames } from './names.js';

const decoder = new TextDecoder();

function decode<T>(bytes: Uint8Array, what: string): T {
  try {
    return JSON.parse(decoder.decode(bytes)) as T;
  } catch (err) {
    throw hsuError('MESSAGE_LOG_CORRUPT', `a stored ${what} is not JSON`, { what }, err);
  }
}

function isPosition(value: unknown): value is ConsumerPosition {
  const p = value as Partial<ConsumerPosition> | null;
  return typeof p?.last_id === 'number' && typeof p.lease_to === 'number' && typeof p.lease_runs === 'number';
}

export class JetStreamConsumerStore implements ConsumerStore {
  /** Revision of each position key as this store last wrote or read it: the compare in compare-and-set. */
  private readonly revisions = new Map<string, number>();

  constructor(
    private readonly kv: KV,
    private readonly names: LogNames,
    private readonly leases: ConsumerLeases,
    /** Tells every process's watchers that consumer state changed (a re-drive request). */
    private readonly notify: () => void,
  ) {}

  async open(consumer: string): Promise<ConsumerPosition> {
    const leaseKey = this.names.leaseKey(consumer);
    await this.leases.acquire(leaseKey, consumer);
    const key = this.names.positionKey(consumer);
    const entry = await this.kv.get(key);
    if (entry === null || entry.operation !== 'PUT') {
      const fresh = { last_id: 0, lease_to: 0, lease_runs: 0 };
      const revision = entry === null ? await this.kv.create(key, JSON.stringify(fresh)) : await this.kv.update(key, JSON.stringify(fresh), entry.revision);
      this.revisions.set(consumer, revision);
      return fresh;
    }
    const stored = decode<unknown>(entry.value, `checkpoint of ${consumer}`);
    if (!isPosition(stored)) throw hsuError('MESSAGE_LOG_CORRUPT', `the checkpoint of consumer '${consumer}' has the wrong shape`, { consumer });
    this.revisions.set(consumer, entry.revision);
    if (stored.lease_to <= stored.last_id) return { last_id: stored.last_id, lease_to: stored.last_id, lease_runs: 0 };
    // The previous run died holding a lease: counted before anything is delivered again.
    const recovered = { last_id: stored.last_id, lease_to: stored.lease_to, lease_runs: stored.lease_runs + 1 };
    await this.save(consumer, recovered);
    return recovered;
  }

  async save(consumer: string, position: ConsumerPosition): Promise<void> {
    this.leases.assertHeld(this.names.leaseKey(consumer), consumer);
    const key = this.names.positionKey(consumer);
    const value = JSON.stringify({ last_id: position.last_id, lease_to: position.lease_to, lease_runs: position.lease_runs, updated_at: Date.now() });
    const revision = this.revisions.get(consumer);
    try {
      this.revisions.set(consumer, revision === undefined ? await this.kv.put(key, value) : await this.kv.update(key, value, revision));
    } catch (err) {
      if (!isWrongSequence(err)) throw err;
      throw hsuError('CONSUMER_LEASE_LOST', `consumer '${consumer}': another worker wrote its checkpoint; this one must open the consumer again`, { consumer });
    }
  }

  async deadLetter(consumer: string, letter: NewDeadLetter, position?: ConsumerPosition): Promise<void> {
    const key = this.names.letterKey(consumer, letter.message_id);
    const previous = await this.letterEntry(key);
    const stored: DeadLetter = {
      consumer,
      ...letter,
      attempts: (previous?.letter.attempts ?? 0) + letter.attempts,
      state: 'dead',
      dead_at: Date.now(),
      redriven_at: previous?.letter.redriven_at ?? null,
    };
    await this.kv.put(key, JSON.stringify(stored));
    if (position !== undefined) await this.save(consumer, position);
  }

  async listDeadLetters(consumer: string, query: DeadLetterQuery = {}): Promise<DeadLetter[]> {
    const after = query.after ?? 0;
    const limit = query.limit ?? 100;
    const ids: number[] = [];
    for await (const key of await this.kv.keys(this.names.lettersOf(consumer))) {
      const id = Number(key.slice(key.lastIndexOf('.') + 1));
      if (Number.isInteger(id) && id > after) ids.push(id);
    }
    ids.sort((a, b) => a - b);
    const out: DeadLetter[] = [];
    for (const id of ids) {
      if (out.length >= limit) break;
      const found = await this.letterEntry(this.names.letterKey(consumer, id));
      if (found !== undefined && (query.state === undefined || found.letter.state === query.state)) out.push(found.letter);
    }
    return out;
  }

  async requestRedrive(consumer: string, messageIds?: readonly number[]): Promise<number> {
    const wanted = messageIds === undefined ? undefined : new Set(messageIds);
    let count = 0;
    for (const letter of await this.listDeadLetters(consumer, { state: 'dead', limit: Number.MAX_SAFE_INTEGER })) {
      if (wanted !== undefined && !wanted.has(letter.message_id)) continue;
      if (await this.change(consumer, letter.message_id, (l) => (l.state === 'dead' ? { ...l, state: 'redrive' } : undefined))) count++;
    }
    if (count > 0) this.notify();
    return count;
  }

  pendingRedrives(consumer: string, limit: number): Promise<DeadLetter[]> {
    return this.listDeadLetters(consumer, { state: 'redrive', limit });
  }

  async settleRedrive(consumer: string, messageId: number, outcome: RedriveOutcome): Promise<void> {
    const now = Date.now();
    await this.change(consumer, messageId, (l) =>
      outcome.ok
        ? { ...l, state: 'redriven', redriven_at: now }
        : { ...l, state: 'dead', error_code: outcome.error_code, error_message: outcome.error_message, attempts: l.attempts + outcome.attempts, dead_at: now },
    );
  }

  private async letterEntry(key: string): Promise<{ letter: DeadLetter; revision: number } | undefined> {
    const entry = await this.kv.get(key);
    if (entry === null || entry.operation !== 'PUT') return undefined;
    return { letter: decode<DeadLetter>(entry.value, 'dead letter'), revision: entry.revision };
  }

  /** Compare-and-set on one letter, retried when another process changed it meanwhile. */
  private async change(consumer: string, messageId: number, edit: (letter: DeadLetter) => DeadLetter | undefined): Promise<boolean> {
    const key = this.names.letterKey(consumer, messageId);
    for (let tries = 0; tries < 10; tries++) {
      const found = await this.letterEntry(key);
      if (found === undefined) return false;
      const next = edit(found.letter);
      if (next === undefined) return false;
      try {
        await this.kv.update(key, JSON.stringify(next), found.revision);
        return true;
      } catch (err) {
        if (!isWrongSequence(err)) throw err;
      }
    }
    return false;
  }
}
