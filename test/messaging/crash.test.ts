// Crashes of real child processes (kill -9): at-least-once in the middle of a batch, exactly-once
// in the middle of a handler (and the at-least-once control that does duplicate), and a poison
// message that kills its host every time.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { openLog, Task, useScratch, waitFor } from './helpers.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'crash-child.js');
const COUNT = 600;

interface Delivery {
  run: number;
  id: number;
  delivery: number;
  redelivered: boolean;
}

function startChild(config: Record<string, unknown>): ChildProcess {
  return spawn(process.execPath, [CHILD, JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function deliveries(file: string): Delivery[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [run, id, delivery, redelivered] = line.split(' ').map(Number);
      return { run: run ?? 0, id: id ?? 0, delivery: delivery ?? 0, redelivered: redelivered === 1 };
    });
}

async function kill9(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  const [code, signal] = (await exited) as [number | null, string | null];
  assert.equal(signal, 'SIGKILL', `child exited with ${code}`);
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  assert.equal(code, 0);
}

describe('crashes of a real command-worker process', () => {
  const scratch = useScratch('crash');

  /** Fills a log with COUNT tasks and an effects table; returns the paths. */
  async function prepare(name: string): Promise<{ db: string; file: string }> {
    const db = path.join(scratch.dir, `${name}.db`);
    const log = openLog(db);
    log.db.exec('CREATE TABLE effects (message_id INTEGER NOT NULL, run INTEGER NOT NULL)');
    await log.appendBatch(Array.from({ length: COUNT }, (_, n) => Task({ n })));
    await log.close();
    return { db, file: path.join(scratch.dir, `${name}.deliveries`) };
  }

  function position(db: string, consumer: string): { last_id: number; lease_to: number } | undefined {
    const log = openLog(db);
    try {
      const row = log.db.prepare('SELECT last_id, lease_to FROM hsu_consumers WHERE consumer = ?').get(consumer) as { last_id: number; lease_to: number } | undefined;
      return row === undefined ? undefined : { last_id: row.last_id, lease_to: row.lease_to };
    } finally {
      void log.close();
    }
  }

  function effects(db: string): Map<number, number> {
    const log = openLog(db);
    try {
      const rows = log.db.prepare('SELECT message_id, count(*) AS n FROM effects GROUP BY message_id').all() as { message_id: number; n: number }[];
      return new Map(rows.map((r) => [r.message_id, r.n]));
    } finally {
      void log.close();
    }
  }

  /** Run 1 hangs in the handler of message 250 (mid-batch 201..300) and is killed; run 2 finishes. */
  async function killMidBatch(name: string, mode: 'alo' | 'eo', effectsMode: string): Promise<{ db: string; all: Delivery[] }> {
    const { db, file } = await prepare(name);
    const base = { db, consumer: name, deliveries: file, mode, effects: effectsMode, batch_size: 100 };
    const first = startChild({ ...base, run: 1, hang_at: 250 });
    await waitFor('the handler of message 250 to hang', () => (existsSync(`${file}.hanging`) ? true : undefined));
    assert.deepEqual(position(db, name), { last_id: 200, lease_to: 300 }, 'killed with batch 201..300 leased and unfinished');
    await kill9(first);
    const second = startChild({ ...base, run: 2 });
    try {
      await waitFor('run 2 to reach the head', () => (position(db, name)?.last_id === COUNT ? true : undefined));
    } finally {
      await terminate(second);
    }
    return { db, all: deliveries(file) };
  }

  test('at-least-once: kill -9 in the middle of a batch, restart, every id delivered, in order in each run', async () => {
    const { all } = await killMidBatch('alo', 'alo', 'none');
    const ids = new Set(all.map((d) => d.id));
    const missing = Array.from({ length: COUNT }, (_, i) => i + 1).filter((id) => !ids.has(id));
    assert.deepEqual(missing, [], 'no message lost');
    for (const run of [1, 2]) {
      const order = all.filter((d) => d.run === run).map((d) => d.id);
      assert.deepEqual(order, [...order].sort((a, b) => a - b), `run ${run} delivered in id order`);
    }
    const run2 = all.filter((d) => d.run === 2);
    assert.equal(run2[0]?.id, 201, 'run 2 starts after the persisted checkpoint');
    const twice = [...new Set(all.map((d) => d.id))].filter((id) => all.filter((d) => d.id === id).length > 1);
    assert.deepEqual(twice, Array.from({ length: 50 }, (_, i) => 201 + i), 'only what run 1 had in hand is delivered again');
    assert.ok(run2.filter((d) => d.id <= 300).every((d) => d.redelivered && d.delivery === 2), 'the leased range is marked as redelivered');
    assert.ok(run2.filter((d) => d.id > 300).every((d) => !d.redelivered && d.delivery === 1));
  });

  test('exactly-once: kill -9 in the middle of a handler leaves no duplicate effect and none missing', async () => {
    const { db, all } = await killMidBatch('eo', 'eo', 'transaction');
    const counts = effects(db);
    const wrong = Array.from({ length: COUNT }, (_, i) => i + 1).filter((id) => counts.get(id) !== 1);
    assert.deepEqual(wrong, [], 'every message has exactly one effect');
    assert.equal(all.filter((d) => d.id === 250).length, 2, 'the handler itself did run twice for message 250');
  });

  test('control: the same kill with effects written beside the checkpoint duplicates them (what exactly-once prevents)', async () => {
    const { db } = await killMidBatch('control', 'alo', 'autocommit');
    const counts = effects(db);
    const duplicated = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
    assert.deepEqual(duplicated, Array.from({ length: 50 }, (_, i) => 201 + i));
  });

  test('a message that kills its host every time is counted over restarts and buried as MESSAGE_POISON', async () => {
    const { db, file } = await prepare('poison');
    const base = { db, consumer: 'poison', deliveries: file, mode: 'alo', effects: 'none', batch_size: 100, max_attempts: 3, die_at: 5 };
    let runs = 0;
    let last: ChildProcess | undefined;
    while (position(db, 'poison')?.last_id !== COUNT) {
      runs++;
      assert.ok(runs <= 5, 'the poison message is buried after max_attempts runs died on it');
      last = startChild({ ...base, run: runs });
      const exited = once(last, 'exit');
      const caughtUp = waitFor('caught up', () => (position(db, 'poison')?.last_id === COUNT ? true : undefined));
      await Promise.race([exited, caughtUp]);
      if (last.exitCode === null && last.signalCode === null) await caughtUp;
    }
    if (last !== undefined) await terminate(last);
    assert.equal(runs, 4, 'three runs died on message 5, the fourth buried it');
    const all = deliveries(file);
    assert.deepEqual(all.filter((d) => d.id === 5).map((d) => d.delivery), [1, 2, 3]);
    const log = openLog(db);
    try {
      const [letter] = await log.consumers.listDeadLetters('poison');
      assert.equal(letter?.message_id, 5);
      assert.equal(letter?.error_code, 'HSU_ERR_MESSAGE_POISON');
      assert.equal(letter?.attempts, 3);
      const ids = new Set(all.map((d) => d.id));
      assert.deepEqual(Array.from({ length: COUNT }, (_, i) => i + 1).filter((id) => id !== 5 && !ids.has(id)), []);
    } finally {
      await log.close();
    }
  });
});
