// Wake-up across processes: with the safety poll set to an hour, only the inotify wake-up on the
// log's -wal file can bring a message appended by another process to the handler; if it did not
// work, these waits would time out.
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { CommandWorker } from '../../src/messaging/index.js';
import { activeResources, assertNothingActiveBeyond, openLog, useScratch, waitFor } from './helpers.js';

const APPENDER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'append-child.js');
const scratch = useScratch('wake');

test('a message appended by another process wakes the worker without waiting for a poll', async () => {
  const db = path.join(scratch.dir, 'wake.db');
  const log = openLog(db, { safetyPollMs: 3_600_000 });
  const seen: number[] = [];
  const worker = new CommandWorker({ name: 'woken', state: null, log }).onCommand('task/run', (c) => {
    seen.push(c.payload.n);
  });
  const baseline = activeResources();
  await worker.start();
  const child = fork(APPENDER, [db], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    await once(child, 'message');
    for (let n = 0; n < 20; n++) {
      child.send({ n });
      await waitFor(`message ${n} handled`, () => (seen.length === n + 1 ? true : undefined), 10_000, 1);
    }
    child.send({ n: 100, batch: 50 });
    await waitFor('a batch of 50 handled', () => (seen.length === 70 ? true : undefined), 10_000, 1);
    assert.deepEqual(seen, [...Array.from({ length: 20 }, (_, i) => i), ...Array.from({ length: 50 }, (_, i) => 100 + i)]);
    assert.equal((worker.diagnostics().wake as { mode: string }).mode, 'inotify');
  } finally {
    child.send({});
    await once(child, 'exit');
    await worker.stop();
    await log.close();
  }
  await assertNothingActiveBeyond(baseline);
});
