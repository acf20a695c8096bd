// Soak of the hot path (append, wake, read, decode, handle, checkpoint): after a warm-up, a long
// run must not grow the heap beyond a small bound, and stopping leaves nothing active.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { CommandWorker, Executor } from '../../src/messaging/index.js';
import { activeResources, assertNothingActiveBeyond, openLog, Task, useScratch, waitFor } from './helpers.js';
import { forceGc } from '../helpers/gc.js';

const BOUND_MB = 8;

const scratch = useScratch('soak');

function heapMb(): number {
  forceGc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

test(`a worker handling 400k messages (single appends and batches, sync and async handlers) stays within ${BOUND_MB} MB of heap`, async (t) => {
  const log = openLog(path.join(scratch.dir, 'soak.db'));
  let handled = 0;
  const worker = new CommandWorker({ name: 'soak', state: null, log, retry: { maxAttempts: 2, backoffMs: 0 } });
  worker.onCommand('task/run', (c, _m, ctx) => {
    handled++;
    if (c.payload.n % 1000 === 999 && ctx.delivery === 1) throw new Error('one in a thousand fails once');
    return c.payload.n % 2 === 0 ? Promise.resolve() : undefined;
  });
  const baseline = activeResources();
  await worker.start();
  let n = 0;
  const round = async (): Promise<void> => {
    for (let b = 0; b < 20; b++) await log.appendBatch(Array.from({ length: 1000 }, () => Task({ n: n++ })));
    for (let i = 0; i < 1000; i++) await log.append(Task({ n: n++ }));
    await waitFor('the round handled', () => (worker.diagnostics().checkpoint === n ? true : undefined), 60_000, 2);
  };
  try {
    await round();
    await round();
    const start = heapMb();
    for (let r = 0; r < 17; r++) await round();
    const growth = heapMb() - start;
    t.diagnostic(`heap growth ${growth.toFixed(2)} MB over ${n} messages`);
    assert.ok(growth < BOUND_MB, `heap grew by ${growth.toFixed(1)} MB over ${n} messages`);
    assert.ok(handled >= n);
    const d = worker.diagnostics();
    assert.equal(d.dead_lettered, 0);
    assert.equal(d.retried, Math.floor(n / 1000));
    assert.ok(log.wakeInfo.background_checkpoints > 0, 'the WAL was checkpointed by the background thread');
  } finally {
    await worker.stop();
    await log.close();
  }
  await assertNothingActiveBeyond(baseline);
});

test(`an executor executing 60k commands (half of them concurrently) stays within ${BOUND_MB} MB of heap`, async (t) => {
  const log = openLog(path.join(scratch.dir, 'executor-soak.db'));
  const executor = new Executor({ log, state: { sum: 0 } }).onApply('task/run', (state, command) => {
    state.sum += command.payload.n;
  });
  const baseline = activeResources();
  try {
    await executor.replay();
    let n = 0;
    const round = async (): Promise<void> => {
      for (let i = 0; i < 1500; i++) await executor.execute(Task({ n: n++ }));
      await Promise.all(Array.from({ length: 1500 }, () => executor.execute(Task({ n: n++ }))));
    };
    await round();
    const start = heapMb();
    for (let r = 0; r < 19; r++) await round();
    const growth = heapMb() - start;
    t.diagnostic(`heap growth ${growth.toFixed(2)} MB over ${n} executes`);
    assert.ok(growth < BOUND_MB, `heap grew by ${growth.toFixed(1)} MB`);
    assert.equal(executor.state.sum, (n * (n - 1)) / 2);
  } finally {
    await log.close();
  }
  await assertNothingActiveBeyond(baseline);
});
