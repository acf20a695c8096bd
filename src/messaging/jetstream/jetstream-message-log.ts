/**
 * The MessageLog on JetStream, for command workers on several hosts sharing one log. A stream per
 * log (`HSU_LOG_<name>`, one subject): append is a publish with a dedup id, acknowledged once
 * stored; ids are stream sequences, assigned by the stream leader in order, so a reader that has
 * seen id N never sees a smaller one appear (the checkpoint stays one number). Reads stream from
 * cursors (ordered consumers), checkpoints and dead letters live in a KV bucket beside it, a
 * consumer is run by one worker at a time (consumer-lease.ts). The same CommandWorker runs on it
 * unchanged, with the same at-least-once semantics.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { hsuError } from '../../errors.js';
import { openBucket } from '../../cluster/buckets.js';
import { ClusterConnection } from '../../cluster/connection.js';
import { loadNats, type ConnectSettings, type HeadersFactory } from '../../cluster/nats.js';
import { parseClusterConfig, type ClusterConfigInput } from '../../cluster/config.js';
import { encodePayload, type CommandInputOf, type CommandRegistry, type CommandType } from '../commands.js';
import type { LogRecord, MessageLog, RecordsOptions } from '../message-log.js';
import { followRecords } from '../records.js';
import { ConsumerLeases } from './consumer-lease.js';
import { JetStreamConsumerStore } from './consumer-store.js';
import { Cursor } from './cursor.js';
import { HEADER_AT, HEADER_NAME, LOG_NAME, logNames, type LogNames } from './names.js';

export interface JetStreamMessageLogOptions<T extends CommandType = CommandType> {
  /** The log's name (the stream is `HSU_LOG_<name>`): 1-64 of [A-Za-z0-9_-]. */
  readonly name: string;
  readonly commands?: CommandRegistry<T>;
  /** Stream replicas in a clustered NATS (1, 3 or 5). Default 1. */
  readonly replicas?: number;
  /** A consumer lease is gone this long after its holder stopped refreshing it. Default 5 s. */
  readonly leaseTtlMs?: number;
  /** How long opening a consumer held by another live worker waits for it. Default 20 s (under a module's 30 s start timeout). */
  readonly leaseWaitMs?: number;
  /** Records fetched ahead per cursor. Default 1000. */
  readonly batch?: number;
}

const MAX_CURSORS = 4;
const IDLE_CURSOR_MS = 10_000;
const DELIVERY_WAIT_MS = 10_000;
/** A cursor that delivered nothing for this long has sent what it has. */
const FILL_IDLE_MS = 5;

export class JetStreamMessageLog<T extends CommandType = CommandType> implements MessageLog<T> {
  readonly commands: CommandRegistry<T> | undefined;
  readonly consumers: JetStreamConsumerStore;
  readonly names: LogNames;
  private readonly cursors: Cursor[] = [];
  private readonly watchers = new Set<() => void>();
  private changedSub: Subscription | undefined;
  private knownHead = 0;
  private sequence = 0;
  private readonly session = randomUUID();
  private closed = false;
  private readonly batch: number;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly headers: HeadersFactory,
    private readonly leases: ConsumerLeases,
    names: LogNames,
    consumers: JetStreamConsumerStore,
    options: JetStreamMessageLogOptions<T>,
    /** Closed with the log when the log opened it itself. */
    private readonly owned: ClusterConnection | undefined,
  ) {
    this.commands = options.commands;
    this.names = names;
    this.consumers = consumers;
    this.batch = options.batch ?? 1000;
  }

  /** Opens (creating when missing) the log on a connection the caller owns. */
  static async open<T extends CommandType = CommandType>(nc: NatsConnection, options: JetStreamMessageLogOptions<T>, owned?: ClusterConnection): Promise<JetStreamMessageLog<T>> {
    if (!LOG_NAME.test(options.name)) throw hsuError('COMMAND_WORKER_INVALID', `a JetStream log name must be 1-64 of [A-Za-z0-9_-], got '${options.name}'`, { name: options.name });
    const { core, js: lib } = await loadNats();
    const names = logNames(options.name);
    const js = lib.jetstream(nc);
    const jsm = await lib.jetstreamManager(nc);
    await ensureStream(jsm, names, options.replicas ?? 1);
    const ttl = options.leaseTtlMs ?? 5_000;
    const [state, leaseKv] = await Promise.all([openBucket(nc, names.stateBucket, { ttl: 0 }), openBucket(nc, names.leaseBucket, { ttl })]);
    const leases = new ConsumerLeases(leaseKv, { session: randomUUID(), host: os.hostname(), pid: process.pid }, ttl, options.leaseWaitMs ?? 20_000);
    const local = new Set<() => void>();
    const consumers = new JetStreamConsumerStore(state, names, leases, () => {
      nc.publish(names.changed);
      for (const wake of local) wake();
    });
    const log = new JetStreamMessageLog(nc, js, core.headers, leases, names, consumers, options, owned);
    local.add(() => log.wakeAll());
    log.knownHead = (await jsm.streams.info(names.stream)).state.last_seq;
    return log;
  }

  /**
   * Opens the log with a connection of its own (closed by close()), from the same settings as a
   * `cluster:` block: what a command worker module running in a thread or a process does.
   */
  static async connect<T extends CommandType = CommandType>(cluster: ClusterConfigInput, options: JetStreamMessageLogOptions<T>): Promise<JetStreamMessageLog<T>> {
    const settings: ConnectSettings = parseClusterConfig(cluster, 'cluster');
    const connection = new ClusterConnection(settings, `log ${options.name}`);
    if (!(await connection.start())) {
      await connection.close();
      throw hsuError('CLUSTER_UNAVAILABLE', `cannot open message log '${options.name}': NATS is not reachable`, { servers: settings.servers });
    }
    try {
      return await JetStreamMessageLog.open(await connection.ready(), options, connection);
    } catch (err) {
      await connection.close();
      throw err;
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async append(command: CommandInputOf<T>): Promise<number> {
    const data = this.encode(command);
    this.assertOpen();
    return this.publish(command.name, data, Date.now());
  }

  /**
   * Validates every command first (nothing is stored when one is invalid), then publishes them in
   * order, pipelined. Not atomic: JetStream 2.9 has no batch commit, so a failure part-way leaves
   * the earlier ones stored (each publish is retried by its dedup id, never stored twice).
   */
  async appendBatch(commands: readonly CommandInputOf<T>[]): Promise<number[]> {
    const data = commands.map((command) => this.encode(command));
    this.assertOpen();
    const now = Date.now();
    return Promise.all(commands.map((command, i) => this.publish(command.name, data[i] as string, now)));
  }

  async read(after: number, limit = 1000): Promise<LogRecord[]> {
    this.assertOpen();
    for (;;) {
      const cursor = await this.cursorAt(after);
      cursor.busy = true;
      try {
        if (cursor.buffered === 0) {
          if (this.knownHead <= after) return [];
          // Records exist past `after`: the cursor is about to deliver them.
          if (!(await cursor.waitForData(DELIVERY_WAIT_MS))) {
            this.assertOpen();
            this.dropCursor(cursor);
            if (cursor.ended) continue;
            throw hsuError('MESSAGE_LOG_IO', `JetStream did not deliver the records after ${after} of log ${this.names.stream} within ${DELIVERY_WAIT_MS} ms`, { after, head: this.knownHead });
          }
        }
        // Records known to exist are on their way: hand out a full batch rather than the first arrivals.
        const known = Math.min(limit, this.knownHead - after);
        if (cursor.buffered < known) await cursor.fill(known, FILL_IDLE_MS);
        if (cursor.position === after) return cursor.take(limit);
      } finally {
        cursor.busy = false;
      }
    }
  }

  records(after = 0, options: RecordsOptions = {}): AsyncIterableIterator<LogRecord> {
    return followRecords(this, after, options);
  }

  async head(): Promise<number> {
    this.assertOpen();
    const { js: lib } = await loadNats();
    const jsm = await lib.jetstreamManager(this.nc);
    this.knownHead = Math.max(this.knownHead, (await jsm.streams.info(this.names.stream)).state.last_seq);
    return this.knownHead;
  }

  watch(listener: () => void): () => void {
    this.assertOpen();
    this.watchers.add(listener);
    this.changedSub ??= this.nc.subscribe(this.names.changed, { callback: () => this.wakeAll() });
    // A cursor at the head hears every new record, even before anyone reads.
    if (this.cursors.length === 0) void this.cursorAt(this.knownHead).catch(() => undefined);
    return () => {
      this.watchers.delete(listener);
      if (this.watchers.size === 0) {
        this.changedSub?.unsubscribe();
        this.changedSub = undefined;
      }
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watchers.clear();
    this.changedSub?.unsubscribe();
    this.changedSub = undefined;
    await Promise.all(this.cursors.splice(0).map((cursor) => cursor.close()));
    await this.leases.releaseAll();
    await this.owned?.close();
  }

  private async publish(name: string, data: string, at: number): Promise<number> {
    const h = this.headers();
    h.set(HEADER_NAME, name);
    h.set(HEADER_AT, String(at));
    const max = this.nc.info?.max_payload ?? Infinity;
    const size = Buffer.byteLength(data) + name.length + 96;
    if (size > max) throw hsuError('CLUSTER_PAYLOAD_TOO_LARGE', `command '${name}' is ${size} bytes with its headers; the NATS server accepts at most ${max}`, { name, size, max_payload: max });
    try {
      const ack = await this.js.publish(this.names.subject, data, { msgID: `${this.session}.${this.sequence++}`, headers: h, expect: { streamName: this.names.stream } });
      if (ack.seq > this.knownHead) this.knownHead = ack.seq;
      return ack.seq;
    } catch (err) {
      throw hsuError('MESSAGE_LOG_IO', `append to ${this.names.stream} failed: ${(err as Error).message}`, { stream: this.names.stream }, err);
    }
  }

  private async cursorAt(after: number): Promise<Cursor> {
    for (const ended of this.cursors.filter((cursor) => cursor.ended)) this.dropCursor(ended);
    const found = this.cursors.find((cursor) => cursor.position === after && !cursor.busy && !cursor.ended);
    if (found !== undefined) return found;
    const cursor = await Cursor.open(this.js, this.names.stream, after, {
      batch: this.batch,
      seen: (head, woke) => {
        if (head > this.knownHead) this.knownHead = head;
        if (woke) this.wakeAll();
      },
    });
    if (this.closed) {
      await cursor.close();
      this.assertOpen();
    }
    this.cursors.push(cursor);
    // A cursor nobody read from for a while (the one watch() opened before the first read) holds a buffer for nothing.
    const now = Date.now();
    for (const idle of this.cursors.filter((c) => c !== cursor && !c.busy && now - c.usedAt > IDLE_CURSOR_MS)) this.dropCursor(idle);
    if (this.cursors.length > MAX_CURSORS) {
      const idle = this.cursors.filter((c) => !c.busy && c !== cursor).sort((a, b) => a.usedAt - b.usedAt)[0];
      if (idle !== undefined) this.dropCursor(idle);
    }
    return cursor;
  }

  private dropCursor(cursor: Cursor): void {
    const index = this.cursors.indexOf(cursor);
    if (index >= 0) this.cursors.splice(index, 1);
    void cursor.close();
  }

  private wakeAll(): void {
    for (const listener of [...this.watchers]) {
      try {
        listener();
      } catch {
        // a watcher's failure is its own
      }
    }
  }

  private encode(command: CommandInputOf<T>): string {
    if (this.commands !== undefined) return this.commands.encode(command);
    const name = (command as { name?: unknown } | null)?.name;
    if (typeof name !== 'string' || name.length === 0) throw hsuError('COMMAND_INVALID', `a command needs a non-empty string name, got ${JSON.stringify(name)}`, { name });
    return encodePayload(name, command.payload);
  }

  private assertOpen(): void {
    if (this.closed) throw hsuError('MESSAGE_LOG_CLOSED', `message log ${this.names.stream} is closed`, { stream: this.names.stream });
  }
}

async function ensureStream(jsm: JetStreamManager, names: LogNames, replicas: number): Promise<void> {
  try {
    await jsm.streams.info(names.stream);
    return;
  } catch (err) {
    if (!/not found/i.test((err as Error).message)) throw err;
  }
  try {
    await jsm.streams.add({ name: names.stream, subjects: [names.subject], num_replicas: replicas, allow_direct: true, duplicate_window: 120_000_000_000 });
  } catch (err) {
    // Another process created it first.
    if (!/already in use/i.test((err as Error).message)) throw err;
  }
}
