// Bad files and bad moments: a file that is not a database, a database corrupted under a running
// worker, a log locked by another connection, a full disk (a 256 KiB tmpfs mounted here, as root),
// a log of a newer schema. Each gives a coded error; nothing stored is lost or skipped.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, test } from 'node:test';
import { CommandWorker } from '../../src/messaging/index.js';
import { assertCode, codeOf, openLog, Task, useScratch, waitFor, type TestTypes } from './helpers.js';

describe('faults of the log file', () => {
  const scratch = useScratch('faults');
  const file = scratch.file;

  test('a file that is not a database is refused at open with MESSAGE_LOG_CORRUPT', async () => {
    writeFileSync(file('garbage'), 'this is not sqlite '.repeat(300));
    await assertCode(() => openLog(file('garbage')), 'HSU_ERR_MESSAGE_LOG_CORRUPT');
  });

  test('a log written by a newer schema is refused with MESSAGE_LOG_VERSION, untouched', async () => {
    const log = openLog(file('newer'));
    log.db.exec("UPDATE hsu_meta SET value = '99' WHERE key = 'schema_version'");
    await log.close();
    await assertCode(() => openLog(file('newer')), 'HSU_ERR_MESSAGE_LOG_VERSION');
  });

  test('pages corrupted under a running worker: reads fail with MESSAGE_LOG_CORRUPT, the worker reports it and does not advance', async () => {
    const writer = openLog(file('corrupt'));
    const payload = 'x'.repeat(500);
    await writer.appendBatch(Array.from({ length: 400 }, (_, n) => Task({ n, note: payload })));
    writer.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    await writer.close();
    // Scribble over the middle of the file (the table's leaf pages), as a bad disk would.
    const fd = openSync(file('corrupt'), 'r+');
    writeSync(fd, Buffer.alloc(4096 * 8, 0xa5), 0, 4096 * 8, 4096 * 10);
    closeSync(fd);
    const log = openLog(file('corrupt'));
    const seen: number[] = [];
    const worker = new CommandWorker({ name: 'reader', state: null, log, batchSize: 50 });
    worker.onCommand('task/run', (c) => {
      seen.push(c.payload.n);
    });
    await worker.start();
    try {
      await waitFor('the worker to fail', () => (worker.failure === undefined ? undefined : true));
      assert.equal(codeOf(worker.failure), 'HSU_ERR_MESSAGE_LOG_CORRUPT');
      assert.equal(worker.isHealthy(), false);
      assert.equal((worker.diagnostics().fatal as { code: string }).code, 'HSU_ERR_MESSAGE_LOG_CORRUPT');
      const checkpoint = worker.diagnostics().checkpoint as number;
      assert.ok(checkpoint <= seen.length, 'the checkpoint never passes a message that was not handled');
      assert.deepEqual(seen, Array.from({ length: seen.length }, (_, i) => i), 'what was handled came in order, none skipped');
    } finally {
      await worker.stop();
      await log.close();
    }
  });

  test('a log locked by another connection: MESSAGE_LOG_BUSY after the busy timeout, then appends succeed, nothing lost', async () => {
    const log = openLog(file('locked'), { busyTimeoutMs: 30 });
    await log.append(Task({ n: 1 }));
    const holder = new DatabaseSync(file('locked'));
    holder.exec('BEGIN IMMEDIATE');
    await assertCode(() => log.append(Task({ n: 2 })), 'HSU_ERR_MESSAGE_LOG_BUSY');
    await assertCode(() => log.appendBatch([Task({ n: 2 }), Task({ n: 3 })]), 'HSU_ERR_MESSAGE_LOG_BUSY');
    assert.equal((await log.read(0)).length, 1, 'readers are not blocked by the writer');
    holder.exec('COMMIT');
    await log.append(Task({ n: 2 }));
    assert.deepEqual((await log.read(0)).map((r) => JSON.parse(r.data).n), [1, 2]);

    // A worker whose checkpoint write meets the lock fails with the code; a new run loses nothing.
    const seen: number[] = [];
    const make = (): CommandWorker<TestTypes, null> =>
      new CommandWorker({ name: 'blocked', state: null, log }).onCommand('task/run', (c) => {
        seen.push(c.payload.n);
      });
    holder.exec('BEGIN IMMEDIATE');
    const first = make();
    await assertCode(() => first.start(), 'HSU_ERR_MESSAGE_LOG_BUSY');
    holder.exec('COMMIT');
    holder.close();
    const second = make();
    await second.start();
    try {
      await waitFor('both tasks', () => (seen.length === 2 ? true : undefined));
      assert.deepEqual(seen, [1, 2]);
    } finally {
      await second.stop();
      await log.close();
    }
  });

  test('a database locked exclusively cannot be opened: MESSAGE_LOG_BUSY', async () => {
    const holder = new DatabaseSync(file('exclusive'));
    holder.exec('PRAGMA locking_mode = EXCLUSIVE; CREATE TABLE t (x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1)');
    try {
      await assertCode(() => openLog(file('exclusive'), { busyTimeoutMs: 20 }), 'HSU_ERR_MESSAGE_LOG_BUSY');
    } finally {
      holder.exec('COMMIT');
      holder.close();
    }
  });

  test('a full disk: MESSAGE_LOG_FULL, every acknowledged append still readable, appends resume once space is freed', async (t) => {
    if (process.getuid?.() !== 0) {
      t.skip('needs root to mount a tmpfs');
      return;
    }
    const mount = path.join(scratch.dir, 'tiny');
    mkdirSync(mount);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mount]);
    try {
      // Room is kept by a filler file, freed after the log has hit the limit.
      const filler = path.join(mount, 'filler');
      writeFileSync(filler, Buffer.alloc(96 * 1024));
      const db = path.join(mount, 'full.db');
      const log = openLog(db);
      const acknowledged: number[] = [];
      let failure: unknown;
      try {
        for (let n = 0; n < 10_000; n++) acknowledged.push(await log.append(Task({ n, note: 'y'.repeat(200) })));
      } catch (err) {
        failure = err;
      }
      assert.equal(codeOf(failure), 'HSU_ERR_MESSAGE_LOG_FULL', `got ${String(failure)}`);
      assert.ok(acknowledged.length > 10);
      const stored = await log.read(0, 100_000);
      assert.deepEqual(stored.map((r) => r.id), acknowledged, 'every acknowledged append is there, the failed one is not');
      await log.close();
      rmSync(filler);
      const again = openLog(db);
      try {
        assert.equal(await again.head(), acknowledged.length);
        const id = await again.append(Task({ n: -1 }));
        assert.equal(id, acknowledged.length + 1);
      } finally {
        await again.close();
      }
    } finally {
      execFileSync('umount', [mount]);
    }
  });
});
