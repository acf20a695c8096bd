// A module worker's `logs:` block rotates its captured stdout as it does an executable's: a hosted
// module (type: process + module, its own child process) and a thread module, both writing the
// same numbered lines, end with at most `keep` segments, every one but the newest gzipped, holding
// the tail of what was written byte for byte. Real master, real host process and thread.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { WorkerConfigInput } from '../../src/index.js';
import { withMaster } from '../helpers/master-helpers.js';
import { ownCgroups, until } from '../process/support.js';
import { expectedNumbered, outputFixture, readSegments } from './helpers.js';

after(() => assert.deepEqual(ownCgroups(), [], 'no cgroup of this test process may be left'));

const COUNT = 200;
const WIDTH = 64;
const LOGS = { max_size: 1024, keep: 3, gzip: true };

function numbered(id: string, where: 'host' | 'thread'): WorkerConfigInput {
  const module = { module_type: 'plugin', module_path: outputFixture('numbered-plugin.mjs'), config: { count: COUNT, width: WIDTH } };
  const base = { id, logs: LOGS, restart: { policy: 'never' } };
  return (where === 'host' ? { ...base, type: 'process', module } : { ...base, type: 'module', module: { ...module, isolation: 'thread' } }) as WorkerConfigInput;
}

async function rotated(where: 'host' | 'thread'): Promise<void> {
  await withMaster(async (t) => {
    const logDir = path.join(t.dir, 'logs');
    t.master.addWorker(numbered('chatty', where));
    await t.master.startWorker('chatty');
    await t.events.line('chatty', (line) => line.startsWith(`line ${COUNT} `));
    await t.master.stopWorker('chatty');
    const segments = await until('every segment but the newest gzipped', () => {
      const now = readSegments(logDir, 'chatty.out');
      return now.length > 0 && now.slice(0, -1).every((s) => s.compressed) ? now : undefined;
    });
    assert.ok(segments.length > 1, `expected rotation into several segments, found ${segments.map((s) => s.name).join(', ')}`);
    assert.ok(segments.length <= LOGS.keep, `keep is ${LOGS.keep}, found ${segments.map((s) => s.name).join(', ')}`);
    const text = segments.map((s) => s.text).join('');
    assert.ok(text.length < COUNT * WIDTH, 'older segments were deleted');
    assert.ok(expectedNumbered(COUNT, WIDTH).endsWith(text), 'what is kept is the tail of what was written, byte for byte');
  });
}

void describe('logs: on module workers', () => {
  void it('a hosted module (its own process) rotates, keeps and gzips its stdout', { timeout: 30_000 }, () => rotated('host'));
  void it('a thread module does the same', { timeout: 30_000 }, () => rotated('thread'));
});
