// Command workers on real SQLite files, in this process: order, delivery counts, retry then dead
// letter, re-drive, undecodable messages, cancellation on stop, timeouts, periodic work,
// registration errors, diagnostics and nothing left active after stop.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CommandWorker } from '../../src/messaging/index.js';
import type { HandlerContext } from '../../src/messaging/index.js';
import { activeResources, assertCode, assertNothingActiveBeyond, openLog, Other, Task, useScratch, waitFor } from './helpers.js';

const FAST_RETRY = { maxAttempts: 3, backoffMs: 1, maxBackoffMs: 2 };

describe('CommandWorker', () => {
  const scratch = useScratch('worker');
  const file = scratch.file;

  test('delivers in id order with the message, a first delivery count, and passes over commands it has no handler for', async () => {
    const log = openLog(file('order'));
    const seen: { n: number; id: number; delivery: number; redelivered: boolean }[] = [];
    const worker = new CommandWorker({ name: 'orderly', description: 'keeps order', state: { total: 0 }, log });
    worker.onCommand('task/run', (command, message, ctx) => {
      ctx.state.total += command.payload.n;
      seen.push({ n: command.payload.n, id: message.id, delivery: ctx.delivery, redelivered: ctx.redelivered });
    });
    assert.deepEqual(worker.workerInfo(), { name: 'orderly', description: 'keeps order' });
    await log.appendBatch(Array.from({ length: 500 }, (_, n) => (n % 5 === 4 ? Other({ label: `x${n}` }) : Task({ n }))));
    const baseline = activeResources();
    await worker.start();
    try {
      await log.append(Task({ n: 1000 }));
      await waitFor('every task handled', () => (seen.length === 401 ? true : undefined));
      assert.deepEqual(seen.map((s) => s.id), [...seen.map((s) => s.id)].sort((a, b) => a - b));
      assert.ok(seen.every((s) => s.delivery === 1 && !s.redelivered));
      const d = worker.diagnostics();
      await waitFor('checkpoint at head', () => (worker.diagnostics().checkpoint === 501 ? true : undefined));
      assert.equal(d.processed, 401);
      assert.equal(d.ignored, 100);
      assert.equal(worker.state.total, Array.from({ length: 500 }, (_, n) => (n % 5 === 4 ? 0 : n)).reduce((a, b) => a + b, 0) + 1000);
    } finally {
      await worker.stop();
      await log.close();
    }
    await assertNothingActiveBeyond(baseline);
  });

  test('the checkpoint persists: a restarted worker continues after the last handled message', async () => {
    const log = openLog(file('restart'));
    const seen: number[] = [];
    const make = (): CommandWorker<typeof Task | typeof Other, null> =>
      new CommandWorker({ name: 'restarter', state: null, log }).onCommand('task/run', (c) => {
        seen.push(c.payload.n);
      });
    await log.appendBatch(Array.from({ length: 10 }, (_, n) => Task({ n })));
    const first = make();
    await first.start();
    await waitFor('first ten', () => (seen.length === 10 ? true : undefined));
    await first.stop();
    await log.appendBatch(Array.from({ length: 5 }, (_, n) => Task({ n: 10 + n })));
    const second = make();
    await second.start();
    try {
      await waitFor('the next five', () => (seen.length === 15 ? true : undefined));
      assert.deepEqual(seen, Array.from({ length: 15 }, (_, i) => i));
    } finally {
      await second.stop();
      await log.close();
    }
  });

  test('a failing handler is retried with the delivery count, then dead-lettered with its error, and processing continues', async () => {
    const log = openLog(file('retry'));
    const deliveries: [number, number][] = [];
    const worker = new CommandWorker({ name: 'flaky', state: null, log, retry: FAST_RETRY });
    worker.onCommand('task/run', (command, _message, ctx) => {
      deliveries.push([command.payload.n, ctx.delivery]);
      if (command.payload.n === 2 && ctx.delivery < 3) throw new Error('transient');
      if (command.payload.n === 3) throw Object.assign(new Error('always broken'), { code: 'E_BROKEN' });
    });
    await log.appendBatch([Task({ n: 1 }), Task({ n: 2 }), Task({ n: 3 }), Task({ n: 4 })]);
    await worker.start();
    try {
      await waitFor('message 4 handled', () => (deliveries.some(([n]) => n === 4) ? true : undefined));
      assert.deepEqual(deliveries, [[1, 1], [2, 1], [2, 2], [2, 3], [3, 1], [3, 2], [3, 3], [4, 1]]);
      const letters = await worker.deadLetters();
      assert.equal(letters.length, 1);
      assert.equal(letters[0]?.message_id, 3);
      assert.equal(letters[0]?.error_code, 'E_BROKEN');
      assert.equal(letters[0]?.error_message, 'always broken');
      assert.equal(letters[0]?.attempts, 3);
      assert.equal(letters[0]?.state, 'dead');
      const d = worker.diagnostics();
      assert.equal(d.processed, 3);
      assert.equal(d.failed, 5);
      assert.equal(d.retried, 4, 'two retries of message 2, two of message 3');
      assert.equal(d.dead_lettered, 1);
      assert.equal((d.last_error as { message_id: number }).message_id, 3);
    } finally {
      await worker.stop();
      await log.close();
    }
  });

  test('dead letters are re-driven on request: delivered again, settled, and listed as redriven', async () => {
    const log = openLog(file('redrive'));
    let broken = true;
    const handled: [number, number][] = [];
    const worker = new CommandWorker({ name: 'fixable', state: null, log, retry: { maxAttempts: 2, backoffMs: 1 } });
    worker.onCommand('task/run', (command, _m, ctx) => {
      if (broken && command.payload.n % 2 === 0) throw new Error('not yet');
      handled.push([command.payload.n, ctx.delivery]);
    });
    await log.appendBatch([Task({ n: 1 }), Task({ n: 2 }), Task({ n: 3 }), Task({ n: 4 })]);
    await worker.start();
    try {
      await waitFor('two dead letters', async () => ((await worker.deadLetters({ state: 'dead' })).length === 2 ? true : undefined));
      await assertCode(() => worker.redrive([1]), 'HSU_ERR_DEAD_LETTER_NOT_FOUND');
      broken = false;
      assert.equal(await worker.redrive([4]), 1);
      await waitFor('message 4 re-driven', () => (handled.some(([n]) => n === 4) ? true : undefined));
      assert.deepEqual(handled.find(([n]) => n === 4), [4, 3], 'delivery counts the two failed attempts before');
      assert.equal(await worker.redrive(), 1);
      await waitFor('message 2 re-driven', () => (handled.some(([n]) => n === 2) ? true : undefined));
      const letters = await worker.deadLetters();
      assert.deepEqual(letters.map((l) => [l.message_id, l.state]), [[2, 'redriven'], [4, 'redriven']]);
      assert.ok(letters.every((l) => typeof l.redriven_at === 'number'));
      assert.equal(worker.diagnostics().redriven, 2);
      await assertCode(() => worker.actions.redrive({ message_ids: ['x'] }), 'HSU_ERR_DEAD_LETTER_QUERY_INVALID');
      await assertCode(() => worker.actions.dead_letters({ limit: -1 }), 'HSU_ERR_DEAD_LETTER_QUERY_INVALID');
    } finally {
      await worker.stop();
      await log.close();
    }
  });

  test('a message that no longer decodes goes to the dead letters with the reason; later ones are handled', async () => {
    const log = openLog(file('undecodable'));
    const seen: number[] = [];
    await log.append(Task({ n: 1 }));
    // An older version wrote these: a payload of another shape, and bytes that are not JSON.
    log.db.prepare('INSERT INTO hsu_messages (name, data, appended_at) VALUES (?, ?, ?)').run('task/run', '{"count":2}', Date.now());
    log.db.prepare('INSERT INTO hsu_messages (name, data, appended_at) VALUES (?, ?, ?)').run('task/run', '{not json', Date.now());
    await log.append(Task({ n: 4 }));
    const worker = new CommandWorker({ name: 'decoder', state: null, log }).onCommand('task/run', (c) => {
      seen.push(c.payload.n);
    });
    await worker.start();
    try {
      await waitFor('the last task', () => (seen.includes(4) ? true : undefined));
      assert.deepEqual(seen, [1, 4]);
      const letters = await worker.deadLetters();
      assert.deepEqual(letters.map((l) => [l.message_id, l.error_code]), [[2, 'HSU_ERR_MESSAGE_UNDECODABLE'], [3, 'HSU_ERR_MESSAGE_UNDECODABLE']]);
      assert.match(letters[1]?.error_message ?? '', /not valid JSON/);
      assert.equal(letters[0]?.data, '{"count":2}', 'the stored bytes are kept as they were');
      assert.equal(worker.diagnostics().undecodable, 2);
    } finally {
      await worker.stop();
      await log.close();
    }
  });

  test('stop aborts the handler in flight through its signal; the next run delivers it again, counted', async () => {
    const log = openLog(file('cancel'));
    const deliveries: [number, number, boolean][] = [];
    let aborted = 0;
    const make = (): CommandWorker<typeof Task | typeof Other, null> =>
      new CommandWorker({ name: 'cancellable', state: null, log }).onCommand('task/run', async (c, _m, ctx: HandlerContext<null>) => {
        deliveries.push([c.payload.n, ctx.delivery, ctx.redelivered]);
        if (c.payload.n !== 2 || ctx.delivery > 1) return;
        await new Promise<void>((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => {
            aborted++;
            reject(ctx.signal.reason as Error);
          });
        });
      });
    await log.appendBatch([Task({ n: 1 }), Task({ n: 2 }), Task({ n: 3 })]);
    const first = make();
    await first.start();
    await waitFor('message 2 in flight', () => (first.diagnostics().delivery_in_progress !== null ? true : undefined));
    assert.equal((first.diagnostics().delivery_in_progress as { message_id: number }).message_id, 2);
    await first.stop();
    assert.equal(aborted, 1);
    const second = make();
    await second.start();
    try {
      await waitFor('message 3', () => (deliveries.some(([n]) => n === 3) ? true : undefined));
      assert.deepEqual(deliveries, [[1, 1, false], [2, 1, false], [2, 2, true], [3, 1, false]]);
      assert.equal(second.diagnostics().failed, 0, 'a cancelled delivery is not a failure');
    } finally {
      await second.stop();
      await log.close();
    }
  });

  test('a handler that never settles times out (HANDLER_TIMEOUT), is retried, buried, and processing continues', async () => {
    const log = openLog(file('hang'));
    const seen: number[] = [];
    const worker = new CommandWorker({ name: 'hanger', state: null, log, handlerTimeoutMs: 30, retry: { maxAttempts: 2, backoffMs: 1 } });
    worker.onCommand('task/run', (c) => {
      seen.push(c.payload.n);
      return c.payload.n === 1 ? new Promise<void>(() => undefined) : undefined;
    });
    await log.appendBatch([Task({ n: 1 }), Task({ n: 2 })]);
    await worker.start();
    try {
      await waitFor('message 2', () => (seen.includes(2) ? true : undefined));
      assert.deepEqual(seen, [1, 1, 2]);
      const [letter] = await worker.deadLetters();
      assert.equal(letter?.error_code, 'HSU_ERR_HANDLER_TIMEOUT');
    } finally {
      await worker.stop();
      await log.close();
    }
  });

  test('a stop while a handler ignores its signal gives up after the grace and redelivers it later', async () => {
    const log = openLog(file('ignore-signal'));
    const worker = new CommandWorker({ name: 'deaf', state: null, log, stopGraceMs: 20 });
    let started = false;
    worker.onCommand('task/run', () => {
      started = true;
      return new Promise<void>(() => undefined);
    });
    await log.append(Task({ n: 1 }));
    await worker.start();
    await waitFor('delivery started', () => (started ? true : undefined));
    await worker.stop();
    const position = log.db.prepare("SELECT last_id, lease_to FROM hsu_consumers WHERE consumer = 'deaf'").get();
    assert.deepEqual({ ...position }, { last_id: 0, lease_to: 1 }, 'not handled, and leased so the next run counts it');
    await log.close();
  });

  test('periodic work runs on its interval; a failing run is counted, never fatal', async () => {
    const log = openLog(file('periodic'));
    let runs = 0;
    const worker = new CommandWorker({ name: 'ticker', state: { ticks: 0 }, log });
    worker.setPeriodicWork((ctx) => {
      runs++;
      ctx.state.ticks++;
      if (runs === 2) throw new Error('tick failed');
    }, { interval: 5 });
    const baseline = activeResources();
    await worker.start();
    try {
      await waitFor('four runs', () => (runs >= 4 ? true : undefined));
      const periodic = worker.diagnostics().periodic as { failures: number; last_error: { message: string } };
      assert.equal(periodic.failures, 1);
      assert.equal(periodic.last_error.message, 'tick failed');
      assert.ok(worker.isHealthy());
    } finally {
      await worker.stop();
      await log.close();
    }
    await assertNothingActiveBeyond(baseline);
  });

  test('registration errors are coded: unknown command, a command named twice, changes while running, bad options', async () => {
    const log = openLog(file('registration'));
    const worker = new CommandWorker({ name: 'strict', state: null, log });
    await assertCode(() => worker.onCommand('task/nope' as never, () => undefined), 'HSU_ERR_COMMAND_UNKNOWN');
    worker.onCommand('task/run', () => undefined);
    await assertCode(() => worker.onCommand('task/run', () => undefined), 'HSU_ERR_HANDLER_EXISTS');
    await assertCode(() => worker.setPeriodicWork(() => undefined, { interval: 0 }), 'HSU_ERR_COMMAND_WORKER_INVALID');
    await assertCode(() => new CommandWorker({ name: '', state: null, log }), 'HSU_ERR_COMMAND_WORKER_INVALID');
    await assertCode(() => new CommandWorker({ name: 'x', state: null, log, batchSize: 0 }), 'HSU_ERR_COMMAND_WORKER_INVALID');
    await worker.start();
    await assertCode(() => worker.onCommand('other/thing', () => undefined), 'HSU_ERR_COMMAND_WORKER_STARTED');
    await assertCode(() => worker.start(), 'HSU_ERR_COMMAND_WORKER_STARTED');
    await worker.stop();
    await log.close();
  });

  test('a throwing handler never crashes the host, synchronous or asynchronous', async () => {
    const log = openLog(file('throwing'));
    const worker = new CommandWorker({ name: 'thrower', state: null, log, retry: { maxAttempts: 1 } });
    worker.onCommand('task/run', (c) => {
      if (c.payload.n === 1) throw new TypeError('sync boom');
      if (c.payload.n === 2) return Promise.reject(new RangeError('async boom'));
      return undefined;
    });
    worker.onCommand('other/thing', () => {
      throw 'a string, not an Error';
    });
    await log.appendBatch([Task({ n: 1 }), Task({ n: 2 }), Other({ label: 'x' }), Task({ n: 3 })]);
    await worker.start();
    try {
      await waitFor('all settled', () => (worker.diagnostics().checkpoint === 4 ? true : undefined));
      const letters = await worker.deadLetters();
      assert.deepEqual(letters.map((l) => [l.message_id, l.error_code, l.error_message]), [
        [1, 'HSU_ERR_HANDLER_FAILED', 'sync boom'],
        [2, 'HSU_ERR_HANDLER_FAILED', 'async boom'],
        [3, 'HSU_ERR_HANDLER_FAILED', 'a string, not an Error'],
      ]);
      assert.ok(worker.isHealthy());
    } finally {
      await worker.stop();
      await log.close();
    }
  });
});
