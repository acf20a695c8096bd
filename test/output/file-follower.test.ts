// FileFollower against segments a real GNU split writes: exact bytes across rotations, a start at
// an offset or at the end, nothing left open after close, and a soak with a memory bound.
// describe/it return promises the runner tracks itself; `void` says so to the floating-promise rule.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FileFollower, LogSegments, SplitWriter, detectSplit } from '../../src/runtimes/output/index.js';
import { NODE, Scratch, expectedNumbered, outputFixture, silent, waitFor } from './helpers.js';

const scratch = new Scratch();
after(() => scratch.remove());

/** Runs numbered.mjs into a fresh split for `segments`; resolves once split has exited. */
async function splitRun(segments: LogSegments, args: string[], maxSize?: number): Promise<number> {
  const support = await detectSplit();
  const writer = await SplitWriter.start({ binary: support.binary, segments, logger: silent, ...(maxSize === undefined ? {} : { maxSize }) });
  const child = spawn(NODE, [outputFixture('numbered.mjs'), ...args], { stdio: ['ignore', writer.stdin, 'ignore'] });
  await once(child, 'exit');
  assert.equal(await writer.end(5_000), true);
  return writer.first;
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** The kinds of resource a follower can hold: watchers, file handles, reads and closes in flight, timers. */
const FOLLOWER_KINDS = new Set(['FSEventWrap', 'FileHandle', 'FileHandleCloseReq', 'FSReqPromise', 'FSReqCallback', 'Timeout']);

function resources(): string[] {
  return process
    .getActiveResourcesInfo()
    .filter((r) => FOLLOWER_KINDS.has(r))
    .sort();
}

void describe('FileFollower', () => {
  void it('delivers every byte in order across rotations while split writes, and releases what it read', { timeout: 30_000 }, async () => {
    const dir = scratch.dir('follow');
    const segments = new LogSegments({ dir, key: 'f.out' });
    const chunks: Buffer[] = [];
    const follower = new FileFollower({ segments, start: { segment: 0, offset: 0 }, onData: (c) => void chunks.push(Buffer.from(c)) });
    await splitRun(segments, ['5000', '80'], 16 * 1024);
    const expected = expectedNumbered(5000, 80);
    await waitFor('everything read', () => follower.bytes === expected.length);
    await follower.caughtUp();
    assert.equal(Buffer.concat(chunks).toString(), expected);
    assert.ok((follower.position.segment ?? 0) >= 20, 'it moved through the segments');
    await follower.close();
  });

  void it('starts at an offset, or at the end of the newest segment (adoption), and moves on to the next segment', { timeout: 30_000 }, async () => {
    const dir = scratch.dir('start');
    const segments = new LogSegments({ dir, key: 'f.out' });
    segments.begin(segments.allocate());
    writeFileSync(path.join(dir, 'f.out.000000.log'), 'old line\nnewer line\n');
    const fromOffset: Buffer[] = [];
    const fromEnd: Buffer[] = [];
    const a = new FileFollower({ segments, start: { segment: 0, offset: 9 }, onData: (c) => void fromOffset.push(Buffer.from(c)) });
    const b = new FileFollower({ segments, start: 'end', onData: (c) => void fromEnd.push(Buffer.from(c)) });
    await Promise.all([a.caughtUp(), b.caughtUp()]);
    assert.equal(Buffer.concat(fromOffset).toString(), 'newer line\n');
    assert.equal(Buffer.concat(fromEnd).toString(), '');
    const first = await splitRun(segments, ['3', '20']);
    assert.equal(first, 1);
    await waitFor('the next segment read', () => b.bytes === 60);
    assert.equal(Buffer.concat(fromEnd).toString(), expectedNumbered(3, 20));
    await Promise.all([a.close(), b.close()]);
  });

  void it('close() leaves no watcher, no descriptor and no pending read behind', { timeout: 30_000 }, async () => {
    const dir = scratch.dir('handles');
    const segments = new LogSegments({ dir, key: 'f.out' });
    const fds = openFds();
    const before = resources();
    const followers = [0, 1, 2].map(() => new FileFollower({ segments, start: { segment: 0, offset: 0 }, onData: () => undefined }));
    await splitRun(segments, ['2000', '64'], 8 * 1024);
    await waitFor('all read', () => followers.every((f) => f.bytes === 2000 * 64));
    assert.ok(resources().includes('FSEventWrap'), 'the directory is watched while following');
    await Promise.all(followers.map((f) => f.close()));
    assert.deepEqual(resources(), before, `before: ${before.join(',')}`);
    assert.equal(openFds(), fds);
  });

  void it('soak: following 200 MB holds memory flat', { timeout: 120_000 }, async () => {
    const dir = scratch.dir('soak');
    const segments = new LogSegments({ dir, key: 'f.out', keep: 2 });
    let bytes = 0;
    let newlines = 0;
    const follower = new FileFollower({
      segments,
      start: { segment: 0, offset: 0 },
      onData: (c) => {
        bytes += c.length;
        for (let at = c.indexOf(10); at !== -1; at = c.indexOf(10, at + 1)) newlines++;
      },
    });
    const baseline = process.memoryUsage();
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss - baseline.rss)), 20);
    try {
      await splitRun(segments, ['2000000', '100'], 8 * 1024 * 1024);
      await waitFor('all read', () => bytes === 200_000_000, 60_000);
    } finally {
      clearInterval(sampler);
    }
    assert.equal(newlines, 2_000_000);
    assert.ok(peak < 64 * 2 ** 20, `RSS grew ${(peak / 2 ** 20).toFixed(1)} MiB while following 200 MB`);
    await follower.close();
    assert.ok(segments.segments().length <= 3, 'released segments were rotated away behind the follower');
  });
});
