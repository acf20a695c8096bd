// Exactly-once mode in one process: a failing handler's writes are rolled back with it while the
// batch before it commits; retries and re-drives commit their writes with the bookkeeping; an
// asynchronous handler is refused with a coded error.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { CommandWorker } from '../../src/messaging/index.js';
import { openLog, Task, useScratch, waitFor } from './helpers.js';

describe('exactly-once command workers', () => {
  const scratch = useScratch('eo');

  function setup(name: string): ReturnType<typeof openLog> {
    const log = openLog(path.join(scratch.dir, `${name}.db`));
    log.db.exec('CREATE TABLE effects (message_id INTEGER NOT NULL, delivery INTEGER NOT NULL)');
    return log;
  }

  const effects = (log: ReturnType<typeof openLog>): [number, number][] =>
    (log.db.prepare('SELECT message_id, delivery FROM effects ORDER BY rowid').all() as { message_id: number; delivery: number }[]).map((r) => [r.message_id, r.delivery]);

  test('a handler that writes and then throws leaves no write; its retry commits once; neighbours commit', async () => {
    const log = setup('rollback');
    let broken = true;
    const worker = new CommandWorker({ name: 'eo', state: null, log, exactlyOnce: true, retry: { maxAttempts: 2, backoffMs: 1 } });
    worker.onCommand('task/run', (command, message, ctx) => {
      ctx.db?.prepare('INSERT INTO effects (message_id, delivery) VALUES (?, ?)').run(message.id, ctx.delivery);
      if (command.payload.n === 2 && ctx.delivery === 1) throw new Error('after writing');
      if (command.payload.n === 4 && broken) throw new Error('still broken');
    });
    await log.appendBatch([Task({ n: 1 }), Task({ n: 2 }), Task({ n: 3 }), Task({ n: 4 }), Task({ n: 5 })]);
    await worker.start();
    try {
      await waitFor('all settled', () => (worker.diagnostics().checkpoint === 5 ? true : undefined));
      assert.deepEqual(effects(log), [[1, 1], [2, 2], [3, 1], [5, 1]], 'the failed deliveries wrote nothing');
      const [letter] = await worker.deadLetters();
      assert.equal(letter?.message_id, 4);
      broken = false;
      await worker.redrive([4]);
      await waitFor('re-driven', () => (worker.diagnostics().redriven === 1 ? true : undefined));
      assert.deepEqual(effects(log).at(-1), [4, 3], 'the re-drive wrote once, as the third delivery');
      assert.equal((await worker.deadLetters())[0]?.state, 'redriven', 'settled in the same commit as the write');
    } finally {
      await worker.stop();
      await log.close();
    }
  });

  test('an asynchronous exactly-once handler is refused with COMMAND_WORKER_INVALID, its writes undone', async () => {
    const log = setup('async');
    const worker = new CommandWorker({ name: 'eo-async', state: null, log, exactlyOnce: true, retry: { maxAttempts: 1 } });
    worker.onCommand('task/run', async (_command, message, ctx) => {
      ctx.db?.prepare('INSERT INTO effects (message_id, delivery) VALUES (?, ?)').run(message.id, ctx.delivery);
    });
    await log.append(Task({ n: 1 }));
    await worker.start();
    try {
      await waitFor('buried', () => (worker.diagnostics().dead_lettered === 1 ? true : undefined));
      const [letter] = await worker.deadLetters();
      assert.equal(letter?.error_code, 'HSU_ERR_COMMAND_WORKER_INVALID');
      assert.deepEqual(effects(log), []);
    } finally {
      await worker.stop();
      await log.close();
    }
  });
});
