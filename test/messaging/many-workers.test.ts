// 100 command workers on one log in one process: each sees every message of its command in order,
// none is missed, and stopping them all leaves nothing active.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { CommandWorker } from '../../src/messaging/index.js';
import { activeResources, assertNothingActiveBeyond, openLog, Other, Task, useScratch, waitFor, type TestTypes } from './helpers.js';

const scratch = useScratch('many');

test('100 command workers in one process each handle every message of their command, in order', async () => {
  const log = openLog(path.join(scratch.dir, 'many.db'));
  const baseline = activeResources();
  const workers: CommandWorker<TestTypes, number[]>[] = [];
  for (let i = 0; i < 100; i++) {
    const worker = new CommandWorker({ name: `worker-${i}`, state: [] as number[], log });
    // Half handle tasks, half the other command: both halves see only theirs.
    if (i % 2 === 0) worker.onCommand('task/run', (c, _m, ctx) => void ctx.state.push(c.payload.n));
    else worker.onCommand('other/thing', (c, _m, ctx) => void ctx.state.push(Number(c.payload.label)));
    workers.push(worker);
  }
  await Promise.all(workers.map((w) => w.start()));
  try {
    for (let n = 0; n < 200; n++) await log.append(n % 2 === 0 ? Task({ n }) : Other({ label: String(n) }));
    await log.appendBatch(Array.from({ length: 100 }, (_, k) => Task({ n: 1000 + k })));
    const evens = [...Array.from({ length: 100 }, (_, k) => 2 * k), ...Array.from({ length: 100 }, (_, k) => 1000 + k)];
    const odds = Array.from({ length: 100 }, (_, k) => 2 * k + 1);
    await waitFor('every worker caught up', () => (workers.every((w) => w.diagnostics().checkpoint === 300) ? true : undefined));
    workers.forEach((w, i) => assert.deepEqual(w.state, i % 2 === 0 ? evens : odds, `worker-${i}`));
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await log.close();
  }
  await assertNothingActiveBeyond(baseline);
});
