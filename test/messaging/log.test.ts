// The SQLite message log on real files: typed appends, order, batches, iteration, two connections
// on one file, wake-up of a follower, and nothing left active after close.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { SqliteMessageLog } from '../../src/messaging/index.js';
import { activeResources, assertCode, assertNothingActiveBeyond, openLog, Task, Other, useScratch } from './helpers.js';

describe('SqliteMessageLog', () => {
  const scratch = useScratch('log');

  test('append returns increasing ids and read returns records in id order', async () => {
    const log = openLog(path.join(scratch.dir, 'order.db'));
    try {
      assert.equal(await log.head(), 0);
      const ids: number[] = [];
      for (let n = 0; n < 50; n++) ids.push(await log.append(Task({ n })));
      assert.deepEqual(ids, Array.from({ length: 50 }, (_, i) => i + 1));
      const records = await log.read(0, 1000);
      assert.deepEqual(records.map((r) => JSON.parse(r.data).n), Array.from({ length: 50 }, (_, i) => i));
      assert.deepEqual((await log.read(45, 3)).map((r) => r.id), [46, 47, 48]);
      assert.equal(await log.head(), 50);
      assert.equal(records[0]?.name, 'task/run');
      assert.ok((records[0]?.appended_at ?? 0) > 0);
    } finally {
      await log.close();
    }
  });

  test('unknown command names and invalid payloads are refused at append with codes, nothing stored', async () => {
    const log = openLog(path.join(scratch.dir, 'refuse.db'));
    try {
      // The casts are the point: a caller outside TypeScript can send anything.
      await assertCode(() => log.append({ name: 'task/nope', payload: { n: 1 } } as never), 'HSU_ERR_COMMAND_UNKNOWN');
      await assertCode(() => log.append({ name: 'task/run', payload: { n: 'one' } } as never), 'HSU_ERR_COMMAND_INVALID');
      await assertCode(() => log.append({ name: 'task/run', payload: { n: 1.5 } }), 'HSU_ERR_COMMAND_INVALID');
      await assertCode(() => log.append(null as never), 'HSU_ERR_COMMAND_UNKNOWN');
      assert.equal(await log.head(), 0);
      try {
        await log.append({ name: 'task/run', payload: { n: 'x' } } as never);
      } catch (err) {
        const issues = (err as { context: { issues: { path: string }[] } }).context.issues;
        assert.equal(issues[0]?.path, 'n', 'the error says where the payload is wrong');
      }
    } finally {
      await log.close();
    }
  });

  test('appendBatch stores all or none, validating every command before writing', async () => {
    const log = openLog(path.join(scratch.dir, 'batch.db'));
    try {
      const ids = await log.appendBatch([Task({ n: 1 }), Other({ label: 'a' }), Task({ n: 2 })]);
      assert.deepEqual(ids, [1, 2, 3]);
      await assertCode(() => log.appendBatch([Task({ n: 3 }), { name: 'task/run', payload: { n: 'bad' } } as never]), 'HSU_ERR_COMMAND_INVALID');
      assert.equal(await log.head(), 3, 'the valid command before the invalid one was not stored');
      assert.deepEqual(await log.appendBatch([]), []);
    } finally {
      await log.close();
    }
  });

  test('a log without a registry accepts any JSON payload but not what JSON cannot carry', async () => {
    const log = SqliteMessageLog.open(path.join(scratch.dir, 'untyped.db'));
    try {
      assert.equal(await log.append({ name: 'anything', payload: { a: [1, 2] } }), 1);
      await assertCode(() => log.append({ name: 'x', payload: 10n }), 'HSU_ERR_COMMAND_INVALID');
      await assertCode(() => log.append({ name: 'x', payload: undefined }), 'HSU_ERR_COMMAND_INVALID');
      await assertCode(() => log.append({ name: '', payload: 1 }), 'HSU_ERR_COMMAND_INVALID');
    } finally {
      await log.close();
    }
  });

  test('two connections append to the same file; each sees the other in one id order', async () => {
    const file = path.join(scratch.dir, 'shared.db');
    const a = openLog(file);
    const b = openLog(file);
    try {
      for (let n = 0; n < 100; n++) await (n % 2 === 0 ? a : b).append(Task({ n }));
      const fromA = await a.read(0, 1000);
      const fromB = await b.read(0, 1000);
      assert.deepEqual(fromA, fromB);
      assert.deepEqual(fromA.map((r) => JSON.parse(r.data).n), Array.from({ length: 100 }, (_, i) => i));
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('records() iterates in batches and, following, wakes on an append by another connection', async () => {
    const file = path.join(scratch.dir, 'follow.db');
    const reader = openLog(file, { safetyPollMs: 3_600_000 });
    const writer = openLog(file);
    const baseline = activeResources();
    try {
      await writer.appendBatch(Array.from({ length: 25 }, (_, n) => Task({ n })));
      const seen: number[] = [];
      for await (const record of reader.records(0, { batch: 7 })) seen.push(record.id);
      assert.deepEqual(seen, Array.from({ length: 25 }, (_, i) => i + 1));

      const abort = new AbortController();
      const followed: number[] = [];
      const following = (async () => {
        for await (const record of reader.records(25, { follow: true, signal: abort.signal })) {
          followed.push(record.id);
          if (followed.length === 3) abort.abort();
        }
      })();
      // The safety poll is an hour: only the inotify wake-up can deliver these.
      await writer.append(Task({ n: 100 }));
      await new Promise((resolve) => setTimeout(resolve, 20));
      await writer.appendBatch([Task({ n: 101 }), Task({ n: 102 })]);
      await following;
      assert.deepEqual(followed, [26, 27, 28]);
    } finally {
      await reader.close();
      await writer.close();
    }
    await assertNothingActiveBeyond(baseline);
  });

  test('a closed log refuses every operation with MESSAGE_LOG_CLOSED', async () => {
    const log = openLog(path.join(scratch.dir, 'closed.db'));
    await log.close();
    await log.close();
    await assertCode(() => log.append(Task({ n: 1 })), 'HSU_ERR_MESSAGE_LOG_CLOSED');
    await assertCode(() => log.read(0), 'HSU_ERR_MESSAGE_LOG_CLOSED');
    await assertCode(() => log.head(), 'HSU_ERR_MESSAGE_LOG_CLOSED');
    await assertCode(() => log.watch(() => undefined), 'HSU_ERR_MESSAGE_LOG_CLOSED');
  });
});
