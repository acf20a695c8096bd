/**
 * Exactly-once delivery for handlers whose effects are writes to the log's own SQLite file: the
 * handler's writes and the checkpoint commit in one transaction, so a crash either keeps both or
 * neither. A batch runs synchronously from BEGIN to COMMIT with a savepoint per message; a failed
 * message rolls back to its savepoint, the batch before it commits, and its retries (with backoff,
 * outside any transaction) each commit on their own.
 */
import type { DatabaseSync } from 'node:sqlite';
import { hsuError } from '../../errors.js';
import type { Command } from '../commands.js';
import type { Message } from '../executor.js';
import type { DeadLetter, LogRecord } from '../message-log.js';
import type { SqliteConsumerStore } from '../sqlite/consumer-store.js';
import type { SqliteTransactor } from '../sqlite/transactor.js';
import { ConsumerLoop, DONE, type Handler, type LoopSetup } from './consumer-loop.js';
import { STOPPED, toError, type Outcome } from './in-flight.js';
import type { HandlerContext } from './options.js';

interface Failure {
  readonly index: number;
  readonly record: LogRecord;
  readonly handler: Handler;
  readonly command: Command;
  readonly prior: number;
  readonly error: Error;
}

export class ExactlyOnceLoop extends ConsumerLoop {
  constructor(
    setup: LoopSetup,
    private readonly tx: SqliteTransactor,
    private readonly sqliteStore: SqliteConsumerStore,
  ) {
    super(setup);
  }

  protected override async batch(records: readonly LogRecord[]): Promise<void> {
    let index = 0;
    while (index < records.length && !this.stopping) {
      const [next, failure] = this.transaction(records, index);
      index = next;
      if (failure === undefined) continue;
      if (!(await this.retry(failure))) return;
      index = failure.index + 1;
    }
  }

  /** Synchronous from BEGIN to COMMIT: returns where it stopped and the message that failed, if one did. */
  private transaction(records: readonly LogRecord[], start: number): [number, Failure | undefined] {
    const before = this.pos;
    let index = start;
    let failure: Failure | undefined;
    this.tx.begin();
    try {
      for (; index < records.length && !this.stopping; index++) {
        const record = records[index] as LogRecord;
        const triaged = this.triage(record);
        if (triaged === undefined) continue;
        if ('error' in triaged) {
          this.buryInTransaction(record, triaged.error, triaged.attempts);
          continue;
        }
        const { handler, prior, command: screened } = triaged;
        this.tx.savepoint();
        const error = this.callSync(handler, screened, record, prior + 1, prior > 0);
        if (error !== undefined) {
          this.tx.undoMessage();
          failure = { index, record, handler, command: screened, prior, error };
          break;
        }
        this.tx.release();
        this.stats.processed++;
        this.advance(record.id);
        // The range a dead run may have delivered commits message by message (poison detection).
        if (record.id <= this.uncertainTo) {
          index++;
          break;
        }
      }
      this.sqliteStore.saveSync(this.setup.name, this.pos);
      this.tx.commit();
    } catch (err) {
      this.tx.rollback();
      this.pos = before;
      throw err;
    }
    this.dirty = false;
    this.savedAt = performance.now();
    return [failure === undefined ? index : failure.index, failure];
  }

  /** Retries of a message whose first delivery failed inside a batch. False when the worker stopped. */
  private async retry(failure: Failure): Promise<boolean> {
    const { record, handler, command, prior } = failure;
    const outcome = await this.afterFailure(record, prior, failure.error, (delivery) => this.commitOne(record, handler, command, delivery, prior > 0));
    if (outcome === DONE) this.stats.processed++;
    return outcome !== STOPPED;
  }

  /** One delivery in its own transaction, committed with the checkpoint past it. */
  private commitOne(record: LogRecord, handler: Handler, command: Command, delivery: number, redelivered: boolean): Outcome {
    const next = this.next(record.id);
    const error = this.deliverAndCommit(handler, command, record, delivery, redelivered, () => this.sqliteStore.saveSync(this.setup.name, next));
    if (error !== undefined) return error;
    this.pos = next;
    this.dirty = false;
    this.savedAt = performance.now();
    return undefined;
  }

  protected override redeliver(letter: DeadLetter, handler: Handler, command: Command, message: Message, delivery: number): Outcome {
    return this.deliverAndCommit(handler, command, message, delivery, true, () => this.sqliteStore.settleRedriveSync(this.setup.name, letter.message_id, { ok: true }));
  }

  /** BEGIN, the handler, then `record` (the bookkeeping) and COMMIT; a failed handler rolls back and is returned. */
  private deliverAndCommit(handler: Handler, command: Command, message: Message, delivery: number, redelivered: boolean, record: () => void): Error | undefined {
    this.tx.begin();
    try {
      const error = this.callSync(handler, command, message, delivery, redelivered);
      if (error !== undefined) {
        this.tx.rollback();
        return error;
      }
      record();
      this.tx.commit();
    } catch (err) {
      this.tx.rollback();
      throw err;
    }
    return undefined;
  }

  /** The settlement already committed with the handler's writes (redeliver). */
  protected override async settledOk(): Promise<void> {
    this.stats.redriven++;
  }

  private buryInTransaction(record: LogRecord, error: Error, attempts: number): void {
    const next = this.next(record.id);
    this.sqliteStore.deadLetterSync(this.setup.name, this.letter(record, error, attempts), next);
    this.buried(record, error, next);
  }

  /** A handler here must be synchronous: an await inside the transaction would hold SQLite's write lock. */
  private callSync(handler: Handler, command: Command, message: Message, delivery: number, redelivered: boolean): Error | undefined {
    const c = this.setup.context;
    const ctx: HandlerContext = { signal: this.inflight.signal, delivery, redelivered, worker: c.worker, state: c.state, executor: c.executor, logger: c.logger, db: this.tx.db as DatabaseSync };
    let result: unknown;
    try {
      result = handler(command, { id: message.id, name: message.name, appended_at: message.appended_at }, ctx);
    } catch (err) {
      return toError(err);
    }
    if (typeof result === 'object' && result !== null && typeof (result as { then?: unknown }).then === 'function') {
      (result as Promise<unknown>).then(undefined, () => undefined);
      return hsuError('COMMAND_WORKER_INVALID', `command worker '${this.setup.name}': an exactly-once handler for '${message.name}' returned a promise; it must be synchronous (its writes go through ctx.db inside the checkpoint's transaction)`, {
        worker: this.setup.name,
        name: message.name,
      });
    }
    return undefined;
  }
}
