/**
 * A reading position in the stream: an ordered consumer (ephemeral, recreated by the client after
 * a gap or a reconnect) streaming records from `after + 1` into a bounded buffer. Reads at the
 * position take from the buffer, so a worker reading batch after batch costs no request per read.
 * Every record that arrives reports the stream's head (its sequence + what is still pending) and
 * wakes the log's watchers: data became readable.
 */
import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { loadNats } from '../../cluster/nats.js';
import type { LogRecord } from '../message-log.js';
import { HEADER_AT, HEADER_NAME } from './names.js';

export class Cursor {
  /** The id of the last record handed out: a read with `after === position` continues here. */
  position: number;
  busy = false;
  usedAt = Date.now();
  private buffer: LogRecord[] = [];
  private start = 0;
  private messages: ConsumerMessages | undefined;
  private arrival: (() => void) | undefined;
  private drained: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private closed = false;

  private constructor(
    after: number,
    private readonly cap: number,
    /** The stream's head as this record tells it; `woke`: the buffer was empty, data became readable. */
    private readonly seen: (head: number, woke: boolean) => void,
  ) {
    this.position = after;
  }

  static async open(js: JetStreamClient, stream: string, after: number, options: { batch: number; seen: (head: number, woke: boolean) => void }): Promise<Cursor> {
    const cursor = new Cursor(after, Math.max(2 * options.batch, 256), options.seen);
    const { js: lib } = await loadNats();
    const consumer = await js.consumers.get(stream, { deliver_policy: lib.DeliverPolicy.StartSequence, opt_start_seq: after + 1 });
    cursor.messages = await consumer.consume({ max_messages: Math.min(options.batch, 1000) });
    cursor.loop = cursor.pump(cursor.messages);
    return cursor;
  }

  get buffered(): number {
    return this.buffer.length - this.start;
  }

  /** Up to `limit` buffered records; the position moves past them. */
  take(limit: number): LogRecord[] {
    const end = Math.min(this.buffer.length, this.start + limit);
    const out = this.buffer.slice(this.start, end);
    this.start = end;
    if (this.start === this.buffer.length) {
      this.buffer = [];
      this.start = 0;
    } else if (this.start > 4096) {
      this.buffer = this.buffer.slice(this.start);
      this.start = 0;
    }
    const last = out[out.length - 1];
    if (last !== undefined) this.position = last.id;
    this.usedAt = Date.now();
    if (this.buffered < this.cap) this.drained?.();
    return out;
  }

  /** Waits until `count` records are buffered, or none arrived for `idleMs` (a fresh cursor filling up). */
  async fill(count: number, idleMs: number): Promise<void> {
    while (this.buffered < count && !this.closed) {
      const before = this.buffered;
      if (!(await this.waitForMore(idleMs)) || this.buffered === before) return;
    }
  }

  private waitForMore(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.arrival = undefined;
        resolve(false);
      }, ms);
      this.arrival = () => {
        clearTimeout(timer);
        this.arrival = undefined;
        resolve(true);
      };
    });
  }

  /** Resolves true when a record is buffered, false after `ms` or on close. */
  waitForData(ms: number): Promise<boolean> {
    if (this.buffered > 0) return Promise.resolve(true);
    if (this.closed) return Promise.resolve(false);
    return this.waitForMore(ms);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.drained?.();
    this.arrival?.();
    await this.messages?.close().catch(() => undefined);
    await this.loop;
  }

  private async pump(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const m of messages) {
        if (this.closed) break;
        const woke = this.buffered === 0;
        this.buffer.push(toRecord(m));
        this.seen(m.seq + m.info.pending, woke);
        this.arrival?.();
        if (this.buffered >= this.cap) await new Promise<void>((resolve) => (this.drained = resolve));
        this.drained = undefined;
      }
    } catch {
      // the iterator ends with the connection; a read then reopens the cursor
    }
    this.closed = true;
    this.arrival?.();
  }

  get ended(): boolean {
    return this.closed;
  }
}

export function toRecord(m: JsMsg): LogRecord {
  const headers = m.headers;
  const at = Number(headers?.get(HEADER_AT));
  return { id: m.seq, name: headers?.get(HEADER_NAME) ?? '', data: m.string(), appended_at: Number.isFinite(at) ? at : Math.round(m.info.timestampNanos / 1e6) };
}
