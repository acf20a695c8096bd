/**
 * The transaction steps of an exactly-once batch on the log's own connection. A batch runs
 * synchronously from BEGIN to COMMIT, so no other code of this thread can slip a write into it
 * (node:sqlite is synchronous: an await inside would let it, and would hold the write lock).
 */
import type { DatabaseSync } from 'node:sqlite';
import { guarded, type SqliteTarget } from './errors.js';

export class SqliteTransactor {
  constructor(
    readonly db: DatabaseSync,
    private readonly target: SqliteTarget,
  ) {}

  begin(): void {
    guarded('begin', this.target, () => this.db.exec('BEGIN IMMEDIATE'));
  }

  commit(): void {
    guarded('commit', this.target, () => this.db.exec('COMMIT'));
  }

  /** Safe to call when the transaction is already gone (SQLite rolls back by itself on some errors). */
  rollback(): void {
    if (this.db.isTransaction) guarded('rollback', this.target, () => this.db.exec('ROLLBACK'));
  }

  savepoint(): void {
    guarded('savepoint', this.target, () => this.db.exec('SAVEPOINT hsu_message'));
  }

  release(): void {
    guarded('release', this.target, () => this.db.exec('RELEASE hsu_message'));
  }

  /** Undoes what one handler wrote, keeping the batch's earlier messages. */
  undoMessage(): void {
    guarded('rollback to savepoint', this.target, () => this.db.exec('ROLLBACK TO hsu_message; RELEASE hsu_message'));
  }
}
