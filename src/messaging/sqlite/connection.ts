/**
 * Opens a log file: WAL (readers never block the appender, several processes share the file),
 * synchronous=NORMAL (a commit survives a process crash; a power loss may lose the last commits,
 * never corrupt the file), a busy timeout for the moments another process holds the write lock.
 */
import { DatabaseSync } from 'node:sqlite';
import { hsuError } from '../../errors.js';
import { guarded } from './errors.js';

export const SCHEMA_VERSION = 1;

const DDL = `
CREATE TABLE IF NOT EXISTS hsu_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO hsu_meta (key, value) VALUES ('schema_version', '${SCHEMA_VERSION}');
CREATE TABLE IF NOT EXISTS hsu_messages (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  data TEXT NOT NULL,
  appended_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS hsu_consumers (
  consumer TEXT PRIMARY KEY,
  last_id INTEGER NOT NULL,
  lease_to INTEGER NOT NULL,
  lease_runs INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS hsu_dead_letters (
  consumer TEXT NOT NULL,
  message_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  data TEXT NOT NULL,
  appended_at INTEGER NOT NULL,
  error_code TEXT NOT NULL,
  error_message TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  state TEXT NOT NULL,
  dead_at INTEGER NOT NULL,
  redriven_at INTEGER,
  PRIMARY KEY (consumer, message_id)
);
CREATE INDEX IF NOT EXISTS hsu_dead_letters_state ON hsu_dead_letters (consumer, state, message_id);
`;

export interface ConnectionOptions {
  /** How long a write waits for another connection's write lock before MESSAGE_LOG_BUSY. Default 5000 ms. */
  readonly busyTimeoutMs?: number;
}

export function openConnection(file: string, options: ConnectionOptions = {}): DatabaseSync {
  const target = { file, busyTimeoutMs: options.busyTimeoutMs ?? 5000 };
  // SQLite's own busy handler is off (timeout 0): guarded() retries with a finer schedule.
  const db = guarded('open', target, () => new DatabaseSync(file, { timeout: 0 }));
  try {
    guarded('configure', target, () => {
      db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA synchronous = NORMAL');
      // The file may hold the user's own tables too (exactly-once handlers), so hsu keeps its
      // version in its own table rather than in PRAGMA user_version. IMMEDIATE: first openers take turns.
      const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'hsu_meta'").get() !== undefined;
      if (!exists) {
        db.exec('BEGIN IMMEDIATE');
        try {
          db.exec(DDL);
          db.exec('COMMIT');
        } catch (err) {
          if (db.isTransaction) db.exec('ROLLBACK');
          throw err;
        }
      }
      const row = db.prepare("SELECT value FROM hsu_meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
      const version = Number(row?.value);
      if (version !== SCHEMA_VERSION) {
        throw hsuError('MESSAGE_LOG_VERSION', `message log ${file} has schema version ${row?.value ?? 'none'}; this hsu reads version ${SCHEMA_VERSION}`, {
          file,
          found: row?.value ?? null,
          expected: SCHEMA_VERSION,
        });
      }
    });
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
