/**
 * Shared by the messaging benchmarks: the command and payload every job appends, the raw
 * node:sqlite floor (the same table and pragmas as the log, no hsu code), and ABBA alternation of
 * floor and subject so outside load on a shared machine hits both sides alike.
 */
import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import * as z from 'zod';
import { CommandRegistry, defineCommand, SqliteMessageLog } from '../src/messaging/index.js';
import { summarize } from './stats.js';

export const OrderPlaced = defineCommand('order/placed', z.object({ order_id: z.string(), qty: z.number().int(), note: z.string(), sent_at: z.number().optional() }));
export const registry = CommandRegistry.of(OrderPlaced);
export const PAYLOAD = { order_id: 'o-12345', qty: 3, note: 'leave at the door' };

export function openBenchLog(dir: string, name: string): SqliteMessageLog<typeof OrderPlaced> {
  return SqliteMessageLog.open(path.join(dir, `${name}.db`), { commands: registry });
}

/** The floor: node:sqlite with the log's schema and pragmas, written and read by hand. */
export class RawSqlite {
  readonly db: DatabaseSync;
  readonly insert: StatementSync;
  readonly select: StatementSync;

  constructor(file: string) {
    this.db = new DatabaseSync(file, { timeout: 5000 });
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL');
    this.db.exec('CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, name TEXT NOT NULL, data TEXT NOT NULL, appended_at INTEGER NOT NULL)');
    this.insert = this.db.prepare('INSERT INTO messages (name, data, appended_at) VALUES (?, ?, ?)');
    this.select = this.db.prepare('SELECT id, name, data, appended_at FROM messages WHERE id > ? ORDER BY id LIMIT ?');
    this.select.setReturnArrays(true);
  }

  insertBatch(count: number): void {
    this.db.exec('BEGIN IMMEDIATE');
    for (let i = 0; i < count; i++) this.insert.run('order/placed', JSON.stringify(PAYLOAD), Date.now());
    this.db.exec('COMMIT');
  }

  insertOne(): void {
    this.insert.run('order/placed', JSON.stringify(PAYLOAD), Date.now());
  }

  /** Reads and JSON-decodes every row after `after`; returns how many. */
  readAll(after = 0): number {
    let last = after;
    let n = 0;
    for (;;) {
      const rows = this.select.all(last, 1000) as unknown as [number, string, string, number][];
      if (rows.length === 0) return n;
      for (const row of rows) {
        JSON.parse(row[2]);
        n++;
      }
      last = rows[rows.length - 1]?.[0] ?? last;
    }
  }

  close(): void {
    this.db.close();
  }
}

/** Rate of `op` (which does `count` operations) over one run. */
export async function rateOf(count: number, op: () => unknown): Promise<number> {
  const start = performance.now();
  await op();
  return count / ((performance.now() - start) / 1000);
}

/** Floor and subject in ABBA order, `rounds` times after one warm-up each; the median rate of each side. */
export async function alternate(rounds: number, floor: () => Promise<number>, subject: () => Promise<number>): Promise<[number, number]> {
  await floor();
  await subject();
  const f: number[] = [];
  const s: number[] = [];
  for (let round = 0; round < rounds; round++) {
    f.push(await floor());
    s.push(await subject());
    s.push(await subject());
    f.push(await floor());
  }
  return [summarize(f).p50, summarize(s).p50];
}
