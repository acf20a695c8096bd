// Master-written segments (threads, hosted modules, the fallback) fed by real children through
// pipes: rotation at line boundaries, over-long lines, keep + gzip, timestamps across chunks,
// partial lines of crashed children, appending across restarts, and a full disk.
// describe/it return promises the runner tracks itself; `void` says so to the floating-promise rule.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { OutputCapture, resolveLogSettings, logsSchema, type LogsConfigInput } from '../../src/runtimes/output/index.js';
import { LONG_LINE_SLACK } from '../../src/runtimes/output/rotating-file.js';
import { fixture } from '../helpers/paths.js';
import { NODE, Scratch, allText, expectedNumbered, outputFixture, readSegments, runPiped, waitFor } from './helpers.js';

const scratch = new Scratch();
const captures: OutputCapture[] = [];
after(async () => {
  await Promise.all(captures.map((c) => c.close()));
  scratch.remove();
});

function capture(dir: string, logs: LogsConfigInput = {}): OutputCapture {
  const c = new OutputCapture({ workerId: 'w', logDir: dir, logs: resolveLogSettings(logsSchema.parse(logs)) });
  captures.push(c);
  return c;
}

async function runToEnd(c: OutputCapture, args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const run = runPiped(c, NODE, args);
  const exit = await run.exit;
  await run.done;
  return exit;
}

const STAMP = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z ';

void describe('master-written segments', () => {
  void it('rotates once a segment has passed max_size, at the next newline: no line cut, nothing lost', { timeout: 30_000 }, async () => {
    const dir = scratch.dir('rotate');
    const c = capture(dir, { max_size: '64KiB', keep: 1000 });
    assert.equal((await runToEnd(c, [outputFixture('numbered.mjs'), '20000', '100'])).code, 0);
    await c.close();
    const segments = readSegments(dir, 'w.out');
    assert.ok(segments.length >= 30, `${segments.length} segments`);
    for (const s of segments.slice(0, -1)) {
      const bytes = Buffer.byteLength(s.text);
      assert.ok(bytes >= 64 * 1024 && bytes < 64 * 1024 + 100, `${s.name}: ${bytes} bytes, past max_size by less than a line`);
      assert.ok(s.text.endsWith('\n'), `${s.name} ends at a line boundary`);
    }
    assert.equal(allText(dir, 'w.out'), expectedNumbered(20000, 100));
    assert.equal(readlinkSync(path.join(dir, 'w.out.log')), segments.at(-1)!.name);
    assert.equal(c.stats().stdout.bytes, 20000 * 100);
    assert.equal(c.stats().stdout.writer, 'master');
  });

  void it('cuts a line without a newline at max_size + 1 MiB', { timeout: 30_000 }, async () => {
    const dir = scratch.dir('long');
    const c = capture(dir, { max_size: '1MiB', keep: 1000 });
    assert.equal((await runToEnd(c, [fixture('no-newline.mjs'), '5'])).code, 0);
    await c.close();
    const sizes = readSegments(dir, 'w.out').map((s) => s.text.length);
    const cut = 2 ** 20 + LONG_LINE_SLACK;
    assert.deepEqual(sizes, [cut, cut, 5 * 2 ** 20 - 2 * cut]);
  });

  void it('keeps `keep` segments and gzips the others: what is left is the tail of what was written', { timeout: 30_000 }, async () => {
    const dir = scratch.dir('keep-gzip');
    const c = capture(dir, { max_size: '32KiB', keep: 3, gzip: true });
    assert.equal((await runToEnd(c, [outputFixture('numbered.mjs'), '5000', '64'])).code, 0);
    await waitFor('compression of all but the newest', () => {
      const s = c.stats().stdout.segments;
      return s.length === 3 && s.slice(0, -1).every((x) => x.compressed);
    });
    await c.close();
    const segments = readSegments(dir, 'w.out');
    assert.deepEqual(
      segments.map((s) => s.compressed),
      [true, true, false],
    );
    const kept = allText(dir, 'w.out');
    const expected = expectedNumbered(5000, 64);
    assert.ok(kept.length > 64 * 1024);
    assert.equal(kept, expected.slice(expected.length - kept.length), 'the newest bytes, in order, decompressed exactly');
  });

  void it('timestamp: true stamps each line once, even when it arrives in pieces; a crashed child’s last partial line lands too', { timeout: 30_000 }, async () => {
    const dir = scratch.dir('stamps');
    const c = capture(dir, { timestamp: true });
    const exit = await runToEnd(c, [outputFixture('pieces.mjs'), 'first li', 'ne\\nsecond\\nthi', 'rd\\n', 'partial', '--crash']);
    assert.equal(exit.signal, 'SIGKILL');
    await c.close();
    const text = allText(dir, 'w.out');
    assert.match(text, new RegExp(`^${STAMP}first line\\n${STAMP}second\\n${STAMP}third\\n${STAMP}partial\\n$`));
  });

  void it('without timestamps the file holds the bytes exactly, a crashed child’s partial last line included', { timeout: 30_000 }, async () => {
    const dir = scratch.dir('partial');
    const c = capture(dir);
    assert.equal((await runToEnd(c, [outputFixture('pieces.mjs'), 'done\\n', 'half a li', '--crash'])).signal, 'SIGKILL');
    // The child's exit does not mean split has written what it read last: close() waits for the writer.
    await c.close();
    assert.equal(allText(dir, 'w.out'), 'done\nhalf a li');
  });

  void it('restarts, and a new capture on the same directory, append to the newest segment while it has room', { timeout: 30_000 }, async () => {
    const dir = scratch.dir('append');
    for (let i = 0; i < 2; i++) {
      const c = capture(dir, { max_size: '1MiB' });
      for (let j = 0; j < 2; j++) assert.equal((await runToEnd(c, [outputFixture('numbered.mjs'), '10', '32'])).code, 0);
      await c.close();
    }
    assert.deepEqual(
      readSegments(dir, 'w.out').map((s) => s.name),
      ['w.out.000000.log'],
    );
    assert.equal(allText(dir, 'w.out'), expectedNumbered(10, 32).repeat(4));
  });

  void it('soak: a 200 MiB flood through rotation holds the master’s memory within the 8 MiB backlog bound', { timeout: 120_000 }, async () => {
    const dir = scratch.dir('soak');
    const c = capture(dir, { max_size: '8MiB', keep: 2 });
    const baseline = process.memoryUsage().rss;
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss - baseline)), 20);
    try {
      assert.equal((await runToEnd(c, [fixture('flood.mjs'), '200'])).code, 0);
    } finally {
      clearInterval(sampler);
    }
    await c.close();
    assert.equal(c.stats().stdout.bytes, 200 * 2 ** 20);
    assert.ok(readSegments(dir, 'w.out').length <= 2, 'older segments rotated away');
    assert.ok(peak < 96 * 2 ** 20, `RSS grew ${(peak / 2 ** 20).toFixed(1)} MiB over a 200 MiB flood`);
  });

  void it('a full disk is counted, not fatal: written + dropped = what the child wrote, and the child is never stalled', { timeout: 30_000 }, async (t) => {
    const mount = scratch.dir('full');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mount], { stdio: 'ignore' });
    } catch {
      t.skip('cannot mount a small tmpfs here (needs root)');
      return;
    }
    try {
      const dir = path.join(mount, 'logs');
      mkdirSync(dir);
      const c = capture(dir);
      assert.equal((await runToEnd(c, [fixture('flood.mjs'), '2'])).code, 0);
      await c.close();
      const s = c.stats().stdout;
      assert.ok(s.bytes_dropped > 0, 'something could not be written');
      assert.equal(s.bytes + s.bytes_dropped, 2 * 2 ** 20);
      assert.match(s.error ?? '', /ENOSPC/);
      assert.equal(s.lines, 2 * (Math.floor(2 ** 20 / 100) + 1), 'the copy still counted every line (flood.mjs: 10486 lines a block)');
    } finally {
      execFileSync('umount', [mount]);
    }
  });
});
