// SelfWrites on real files: a worker's own write delivered after it went down (watcher throttle,
// debounce, a busy loop) does not count as an edit; a file it never wrote does; a new instance
// forgets what the last one wrote once its settle time is over.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { SETTLE_MS, SelfWrites } from '../../src/watch/self-writes.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'hsu-self-writes-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const none = (): Set<string> => new Set();

void describe('telling a worker’s own writes from edits', () => {
  it('a file learned as the worker’s stays its own while the worker is down, until the next instance starts', () => {
    const out = path.join(dir, 'out.txt');
    const input = path.join(dir, 'input.txt');
    writeFileSync(out, '0');
    writeFileSync(input, 'one');
    const writes = new SelfWrites();
    writes.remember([out, input]);
    writes.starting();
    writeFileSync(out, '1');
    assert.equal(writes.attribute(out, none, true), 'starting', 'written while starting: learned');
    const t0 = Date.now();
    writes.running(t0);
    writeFileSync(out, '2');
    assert.equal(writes.attribute(out, none, true, t0 + SETTLE_MS + 10), 'own');
    writes.down();
    writeFileSync(out, '3');
    assert.equal(writes.attribute(out, none, true, t0 + SETTLE_MS + 20), 'own', 'the stopped instance’s late write is not an edit');
    writeFileSync(input, 'two');
    assert.equal(writes.attribute(input, none, true, t0 + SETTLE_MS + 30), 'edit', 'a file it never wrote is an edit, down or not');
    writes.starting();
    writes.running(t0);
    writeFileSync(out, '4');
    assert.equal(writes.attribute(out, none, true, t0 + SETTLE_MS + 40), 'edit', 'a new instance must learn its files again');
    writeFileSync(out, '4');
    assert.equal(writes.attribute(out, none, true, t0 + SETTLE_MS + 50), 'unchanged');
  });
});
