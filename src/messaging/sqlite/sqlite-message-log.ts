/**
 * The embedded message log: one SQLite file (node:sqlite, built into Node; no native build) that
 * several processes may append to and read at once. SQLite has one writer at a time, so ids are
 * assigned in commit order and a reader that has seen id N never sees a smaller id appear later:
 * a consumer's checkpoint is a single number.
 */
import path from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { hsuError } from '../../errors.js';
import type { CommandInputOf, CommandRegistry, CommandType } from '../commands.js';
import { encodePayload } from '../commands.js';
import type { LogRecord, MessageLog, RecordsOptions } from '../message-log.js';
import { followRecords } from '../records.js';
import { Checkpointer } from './checkpointer.js';
import { openConnection } from './connection.js';
import { SqliteConsumerStore } from './consumer-store.js';
import { guarded, sqliteError, type SqliteTarget } from './errors.js';
import { FileWake } from './wake.js';

export interface SqliteMessageLogOptions<T extends CommandType = CommandType> {
  /** Appends are validated against these types; without them any JSON payload is accepted. */
  readonly commands?: CommandRegistry<T>;
  /** How long a write waits for another process's write lock (blocking this thread). Default 5000 ms. */
  readonly busyTimeoutMs?: number;
  /** Safety poll behind the inotify wake-up. Default 1000 ms. */
  readonly safetyPollMs?: number;
}

type Row = [id: number, name: string, data: string, appended_at: number];

export class SqliteMessageLog<T extends CommandType = CommandType> implements MessageLog<T> {
  readonly file: string;
  /** The file and its busy timeout, for every guarded SQLite call. */
  readonly target: SqliteTarget;
  readonly commands: CommandRegistry<T> | undefined;
  readonly consumers: SqliteConsumerStore;
  /** The connection, for exactly-once handlers writing their own tables in the same file. */
  readonly db: DatabaseSync;
  private readonly insert: StatementSync;
  private readonly select: StatementSync;
  private readonly maxId: StatementSync;
  private readonly version: StatementSync;
  private readonly wake: FileWake;
  private readonly checkpointer: Checkpointer;
  private closed = false;

  private constructor(file: string, options: SqliteMessageLogOptions<T>) {
    this.file = file;
    this.target = { file, busyTimeoutMs: options.busyTimeoutMs ?? 5000 };
    this.commands = options.commands;
    this.db = openConnection(file, options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs });
    try {
      this.insert = this.db.prepare('INSERT INTO hsu_messages (name, data, appended_at) VALUES (?, ?, ?)');
      this.select = this.db.prepare('SELECT id, name, data, appended_at FROM hsu_messages WHERE id > ? ORDER BY id LIMIT ?');
      // Arrays are ~1.5x faster to fetch than node:sqlite's row objects; records are built by hand.
      this.select.setReturnArrays(true);
      this.maxId = this.db.prepare('SELECT coalesce(max(id), 0) AS head FROM hsu_messages');
      this.version = this.db.prepare('PRAGMA data_version');
      this.version.setReturnArrays(true);
    } catch (err) {
      this.db.close();
      throw sqliteError(err, 'prepare', file);
    }
    this.wake = new FileWake(file, () => (this.version.get() as unknown as [number])[0], options.safetyPollMs === undefined ? {} : { safetyPollMs: options.safetyPollMs });
    this.checkpointer = new Checkpointer(file, this.db);
    this.consumers = new SqliteConsumerStore(this.db, this.target, () => this.wake.localCommit());
  }

  /** Opens (creating when missing) the log at `file`. Throws MESSAGE_LOG_CORRUPT, _BUSY, _FULL, _IO or _VERSION. */
  static open<T extends CommandType = CommandType>(file: string, options: SqliteMessageLogOptions<T> = {}): SqliteMessageLog<T> {
    return new SqliteMessageLog<T>(path.resolve(file), options);
  }

  async append(command: CommandInputOf<T>): Promise<number> {
    return this.appendSync(command);
  }

  /** The synchronous append underneath: also usable inside an exactly-once handler's transaction. */
  appendSync(command: CommandInputOf<T>): number {
    const data = this.encode(command);
    this.assertOpen();
    const id = guarded('append', this.target, () => Number(this.insert.run(command.name, data, Date.now()).lastInsertRowid));
    this.wake.localCommit();
    this.checkpointer.committed(data.length);
    return id;
  }

  async appendBatch(commands: readonly CommandInputOf<T>[]): Promise<number[]> {
    return this.appendBatchSync(commands);
  }

  appendBatchSync(commands: readonly CommandInputOf<T>[]): number[] {
    // Every command is validated before anything is written: all or none.
    const data = commands.map((command) => this.encode(command));
    this.assertOpen();
    if (commands.length === 0) return [];
    const ids = new Array<number>(commands.length);
    const now = Date.now();
    guarded('append batch', this.target, () => {
      const nested = this.db.isTransaction;
      this.db.exec(nested ? 'SAVEPOINT hsu_append' : 'BEGIN IMMEDIATE');
      try {
        for (let i = 0; i < commands.length; i++) {
          ids[i] = Number(this.insert.run((commands[i] as CommandInputOf<T>).name, data[i] as string, now).lastInsertRowid);
        }
        this.db.exec(nested ? 'RELEASE hsu_append' : 'COMMIT');
      } catch (err) {
        if (nested) this.db.exec('ROLLBACK TO hsu_append; RELEASE hsu_append');
        else if (this.db.isTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    });
    this.wake.localCommit();
    let bytes = 0;
    for (const d of data) bytes += d.length + 16;
    this.checkpointer.committed(bytes);
    return ids;
  }

  async read(after: number, limit = 1000): Promise<LogRecord[]> {
    return this.readSync(after, limit);
  }

  readSync(after: number, limit = 1000): LogRecord[] {
    this.assertOpen();
    const rows = guarded('read', this.target, () => this.select.all(after, limit) as unknown as Row[]);
    const out = new Array<LogRecord>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as Row;
      out[i] = { id: row[0], name: row[1], data: row[2], appended_at: row[3] };
    }
    return out;
  }

  records(after = 0, options: RecordsOptions = {}): AsyncIterableIterator<LogRecord> {
    return followRecords(this, after, options);
  }

  async head(): Promise<number> {
    return this.headSync();
  }

  headSync(): number {
    this.assertOpen();
    return guarded('head', this.target, () => (this.maxId.get() as { head: number }).head);
  }

  watch(listener: () => void): () => void {
    this.assertOpen();
    return this.wake.subscribe(listener);
  }

  /** How the log wakes its watchers now, and how often it did: for diagnostics. */
  get wakeInfo(): { mode: string; wakes: Readonly<Record<string, number>>; background_checkpoints: number } {
    return { mode: this.wake.mode, wakes: { ...this.wake.wakes }, background_checkpoints: this.checkpointer.checkpoints };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake.close();
    await this.checkpointer.close();
    guarded('close', this.target, () => this.db.close());
  }

  private encode(command: CommandInputOf<T>): string {
    if (this.commands !== undefined) return this.commands.encode(command);
    const name = (command as { name?: unknown } | null)?.name;
    if (typeof name !== 'string' || name.length === 0) {
      throw hsuError('COMMAND_INVALID', `a command needs a non-empty string name, got ${JSON.stringify(name)}`, { name });
    }
    return encodePayload(name, command.payload);
  }

  private assertOpen(): void {
    if (this.closed) throw hsuError('MESSAGE_LOG_CLOSED', `message log ${this.file} is closed`, { file: this.file });
  }
}
