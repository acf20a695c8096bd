/**
 * Checkpoints and dead letters in the log's own file. Every method is synchronous underneath, so
 * an exactly-once batch can run them inside its transaction; the async face is the neutral
 * {@link ConsumerStore}.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { ConsumerPosition, ConsumerStore, DeadLetter, DeadLetterQuery, NewDeadLetter, RedriveOutcome } from '../message-log.js';
import { guarded, type SqliteTarget } from './errors.js';

const COLUMNS = 'consumer, message_id, name, data, appended_at, error_code, error_message, attempts, state, dead_at, redriven_at';

export class SqliteConsumerStore implements ConsumerStore {
  private readonly getPosition: StatementSync;
  private readonly putPosition: StatementSync;
  private readonly putLetter: StatementSync;
  private readonly listAll: StatementSync;
  private readonly listState: StatementSync;
  private readonly markAll: StatementSync;
  private readonly markOne: StatementSync;
  private readonly settleOk: StatementSync;
  private readonly settleFailed: StatementSync;

  constructor(
    private readonly db: DatabaseSync,
    private readonly target: SqliteTarget,
    /** Called after a write other consumers should hear about at once (a re-drive request). */
    private readonly onChange: () => void,
  ) {
    this.getPosition = db.prepare('SELECT last_id, lease_to, lease_runs FROM hsu_consumers WHERE consumer = ?');
    this.putPosition = db.prepare(
      `INSERT INTO hsu_consumers (consumer, last_id, lease_to, lease_runs, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (consumer) DO UPDATE SET last_id = excluded.last_id, lease_to = excluded.lease_to, lease_runs = excluded.lease_runs, updated_at = excluded.updated_at`,
    );
    // One letter per consumer and message: a message dead again after a re-drive updates its letter.
    this.putLetter = db.prepare(
      `INSERT INTO hsu_dead_letters (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'dead', ?, NULL)
       ON CONFLICT (consumer, message_id) DO UPDATE SET error_code = excluded.error_code, error_message = excluded.error_message,
         attempts = hsu_dead_letters.attempts + excluded.attempts, state = 'dead', dead_at = excluded.dead_at`,
    );
    this.listAll = db.prepare(`SELECT ${COLUMNS} FROM hsu_dead_letters WHERE consumer = ? AND message_id > ? ORDER BY message_id LIMIT ?`);
    this.listState = db.prepare(`SELECT ${COLUMNS} FROM hsu_dead_letters WHERE consumer = ? AND state = ? AND message_id > ? ORDER BY message_id LIMIT ?`);
    this.markAll = db.prepare("UPDATE hsu_dead_letters SET state = 'redrive' WHERE consumer = ? AND state = 'dead'");
    this.markOne = db.prepare("UPDATE hsu_dead_letters SET state = 'redrive' WHERE consumer = ? AND message_id = ? AND state = 'dead'");
    this.settleOk = db.prepare("UPDATE hsu_dead_letters SET state = 'redriven', redriven_at = ? WHERE consumer = ? AND message_id = ?");
    this.settleFailed = db.prepare(
      "UPDATE hsu_dead_letters SET state = 'dead', error_code = ?, error_message = ?, attempts = attempts + ?, dead_at = ? WHERE consumer = ? AND message_id = ?",
    );
  }

  openSync(consumer: string): ConsumerPosition {
    return guarded('open consumer', this.target, () => {
      const row = this.getPosition.get(consumer) as ConsumerPosition | undefined;
      if (row === undefined) {
        const fresh = { last_id: 0, lease_to: 0, lease_runs: 0 };
        this.saveSync(consumer, fresh);
        return fresh;
      }
      if (row.lease_to <= row.last_id) return { last_id: row.last_id, lease_to: row.last_id, lease_runs: 0 };
      // The previous run died while it held a lease: count it before anything is delivered again.
      const recovered = { last_id: row.last_id, lease_to: row.lease_to, lease_runs: row.lease_runs + 1 };
      this.saveSync(consumer, recovered);
      return recovered;
    });
  }

  saveSync(consumer: string, p: ConsumerPosition): void {
    guarded('save checkpoint', this.target, () => this.putPosition.run(consumer, p.last_id, p.lease_to, p.lease_runs, Date.now()));
  }

  /** Inside the caller's transaction when there is one (exactly-once), else its own. */
  deadLetterSync(consumer: string, l: NewDeadLetter, position?: ConsumerPosition): void {
    this.atomically('dead-letter', () => {
      this.putLetter.run(consumer, l.message_id, l.name, l.data, l.appended_at, l.error_code, l.error_message, l.attempts, Date.now());
      if (position !== undefined) this.putPosition.run(consumer, position.last_id, position.lease_to, position.lease_runs, Date.now());
    });
  }

  listSync(consumer: string, query: DeadLetterQuery = {}): DeadLetter[] {
    const after = query.after ?? 0;
    const limit = query.limit ?? 100;
    return guarded('list dead letters', this.target, () =>
      (query.state === undefined ? this.listAll.all(consumer, after, limit) : this.listState.all(consumer, query.state, after, limit)) as unknown as DeadLetter[],
    );
  }

  requestRedriveSync(consumer: string, ids?: readonly number[]): number {
    const count = this.atomically('request re-drive', () => {
      if (ids === undefined) return Number(this.markAll.run(consumer).changes);
      let n = 0;
      for (const id of ids) n += Number(this.markOne.run(consumer, id).changes);
      return n;
    });
    if (count > 0) this.onChange();
    return count;
  }

  settleRedriveSync(consumer: string, id: number, outcome: RedriveOutcome): void {
    guarded('settle re-drive', this.target, () => {
      if (outcome.ok) this.settleOk.run(Date.now(), consumer, id);
      else this.settleFailed.run(outcome.error_code, outcome.error_message, outcome.attempts, Date.now(), consumer, id);
    });
  }

  async open(consumer: string): Promise<ConsumerPosition> {
    return this.openSync(consumer);
  }

  async save(consumer: string, position: ConsumerPosition): Promise<void> {
    this.saveSync(consumer, position);
  }

  async deadLetter(consumer: string, letter: NewDeadLetter, position?: ConsumerPosition): Promise<void> {
    this.deadLetterSync(consumer, letter, position);
  }

  async listDeadLetters(consumer: string, query?: DeadLetterQuery): Promise<DeadLetter[]> {
    return this.listSync(consumer, query);
  }

  async requestRedrive(consumer: string, message_ids?: readonly number[]): Promise<number> {
    return this.requestRedriveSync(consumer, message_ids);
  }

  async pendingRedrives(consumer: string, limit: number): Promise<DeadLetter[]> {
    return this.listSync(consumer, { state: 'redrive', limit });
  }

  async settleRedrive(consumer: string, message_id: number, outcome: RedriveOutcome): Promise<void> {
    this.settleRedriveSync(consumer, message_id, outcome);
  }

  private atomically<T>(operation: string, fn: () => T): T {
    return guarded(operation, this.target, () => {
      if (this.db.isTransaction) return fn();
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = fn();
        this.db.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.db.isTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    });
  }
}
