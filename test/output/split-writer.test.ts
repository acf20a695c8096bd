// Split-written output against real GNU split, real children, real files and a real `tail -F`:
// rotation without loss or cut lines, the symlink, a 100 MB flood that the master never slows
// down, exact line accounting, partial lines, numbering across captures, the fallback.
// describe/it return promises the runner tracks itself; `void` says so to the floating-promise rule.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import { OutputCapture, SplitWriter, detectSplit, resolveLogSettings, LogSegments, type LogsConfigInput, logsSchema } from '../../src/runtimes/output/index.js';
import { which } from '../../src/os/which.js';
import { fixture } from '../helpers/paths.js';
import { NODE, Scratch, allText, expectedNumbered, outputFixture, readSegments, runPiped, runSplit, silent, waitFor } from './helpers.js';

const scratch = new Scratch();
const captures: OutputCapture[] = [];
after(async () => {
  await Promise.all(captures.map((c) => c.close()));
  scratch.remove();
});

function capture(dir: string, logs: LogsConfigInput = {}, extra: { splitBinary?: string; onLine?: (line: string) => void } = {}): OutputCapture {
  const c = new OutputCapture({
    workerId: 'w',
    logDir: dir,
    logs: resolveLogSettings(logsSchema.parse(logs)),
    ...(extra.splitBinary === undefined ? {} : { splitBinary: extra.splitBinary }),
    ...(extra.onLine === undefined ? {} : { onLine: (_stream, line) => extra.onLine!(line) }),
  });
  captures.push(c);
  return c;
}

async function splitAttach(c: OutputCapture): Promise<NonNullable<Awaited<ReturnType<OutputCapture['attachSplit']>>>> {
  const attachment = await c.attachSplit(silent);
  assert.ok(attachment !== null, 'GNU split is used');
  return attachment;
}

void describe('split-written segments', () => {
  void it('detects GNU split with -C and --numeric-suffixes', async () => {
    const support = await detectSplit();
    assert.equal(support.available, true, support.reason ?? '');
    assert.match(support.version ?? '', /GNU coreutils/);
  });

  void it('rotates by size at line boundaries: every segment whole lines, nothing lost, the symlink on the newest', { timeout: 30_000 }, async () => {
    const dir = scratch.dir('rotate');
    const c = capture(dir, { max_size: '64KiB', keep: 1000 });
    const attachment = await splitAttach(c);
    const run = runSplit(attachment, NODE, [outputFixture('numbered.mjs'), '20000', '100']);
    assert.deepEqual(await run.exit, { code: 0, signal: null });
    await attachment.exited(5_000);
    await c.close();
    const segments = readSegments(dir, 'w.out');
    assert.ok(segments.length >= 30, `${segments.length} segments for 2 MB at 64 KiB`);
    assert.deepEqual(
      segments.map((s) => s.number),
      segments.map((_, i) => i),
      'numbered from 0 without gaps',
    );
    for (const s of segments) {
      assert.ok(Buffer.byteLength(s.text) <= 64 * 1024, `${s.name} is within max_size`);
      assert.ok(s.text.endsWith('\n'), `${s.name} ends at a line boundary`);
    }
    assert.equal(allText(dir, 'w.out'), expectedNumbered(20000, 100));
    assert.equal(readlinkSync(path.join(dir, 'w.out.log')), segments.at(-1)!.name);
    const stats = c.stats().stdout;
    assert.equal(stats.writer, 'split');
    assert.equal(stats.bytes, 20000 * 100);
    assert.equal(stats.lines, 20000);
    assert.equal(stats.segments.length, segments.length);
  });

  void it('keep and gzip apply to split-written segments once the follower has read them', { timeout: 30_000 }, async () => {
    const dir = scratch.dir('keep-gzip');
    const c = capture(dir, { max_size: '16KiB', keep: 3, gzip: true });
    const attachment = await splitAttach(c);
    assert.equal((await runSplit(attachment, NODE, [outputFixture('numbered.mjs'), '3000', '64']).exit).code, 0);
    await attachment.exited(5_000);
    await waitFor('retention and compression', () => {
      const s = c.stats().stdout.segments;
      return s.length === 3 && s[0]!.compressed && s[1]!.compressed && !s[2]!.compressed;
    });
    await c.close();
    const kept = allText(dir, 'w.out');
    const expected = expectedNumbered(3000, 64);
    assert.ok(kept.length > 32 * 1024);
    assert.equal(kept, expected.slice(expected.length - kept.length), 'the newest bytes, decompressed exactly');
    assert.equal(c.stats().stdout.lines, 3000, 'the follower read every segment before it was rotated away');
  });

  void it('`tail -F` on the symlink keeps following across rotations and sees every byte', { timeout: 30_000 }, async () => {
    const dir = scratch.dir('tail');
    const c = capture(dir, { max_size: '16KiB', keep: 1000 });
    const attachment = await splitAttach(c);
    // GNU tail polls a symlink (inotify would watch the target, not the name) and looks at the name
    // again after 5 polls without growth: every 0.1 s here, so a segment must live longer than that.
    const tail = spawn('tail', ['-F', '-n', '+1', '-s', '0.02', path.join(dir, 'w.out.log')], { stdio: ['ignore', 'pipe', 'ignore'] });
    let seen = '';
    tail.stdout.on('data', (chunk: Buffer) => (seen += chunk.toString()));
    try {
      // Paced: 64 lines of 64 bytes every 100 ms, a rotation about every 400 ms.
      const run = runSplit(attachment, NODE, [outputFixture('numbered.mjs'), '1600', '64', '64', '100']);
      assert.equal((await run.exit).code, 0);
      const expected = expectedNumbered(1600, 64);
      await waitFor('tail to print everything', () => seen.length >= expected.length);
      assert.ok(readSegments(dir, 'w.out').length >= 6, 'several rotations happened');
      assert.equal(seen, expected);
    } finally {
      tail.kill('SIGKILL');
    }
  });

  void it('a child writing 100 MB at full speed is never slowed by the master: it finishes while the master does not even run', { timeout: 120_000 }, async () => {
    const dir = scratch.dir('flood');
    const c = capture(dir, { max_size: '16MiB', keep: 100 });
    const attachment = await splitAttach(c);
    const run = runSplit(attachment, NODE, [fixture('flood.mjs'), '100']);
    // The master's event loop is blocked from here until the files hold everything: had the
    // master been in the path (a pipe it reads), the child would wait on it and this never ends.
    const total = 100 * 1024 * 1024;
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    const deadline = Date.now() + 90_000;
    let onDisk = 0;
    while (onDisk < total && Date.now() < deadline) {
      Atomics.wait(sleeper, 0, 0, 50);
      onDisk = readdirSync(dir)
        .filter((n) => /^w\.out\.\d{6}\.log$/.test(n))
        .reduce((sum, n) => sum + statSync(path.join(dir, n)).size, 0);
    }
    assert.equal(onDisk, total, 'every byte reached the files while the master was blocked');
    assert.deepEqual(await run.exit, { code: 0, signal: null });
    await attachment.exited(10_000);
    await c.close();
    assert.equal(c.stats().stdout.bytes, total, 'the follower read all of it afterwards');
  });

  void it('copied + suppressed = lines for a 300k-line flood written by split', { timeout: 60_000 }, async () => {
    const dir = scratch.dir('count');
    let delivered = 0;
    const c = capture(dir, {}, { onLine: () => delivered++ });
    const attachment = await splitAttach(c);
    const run = runSplit(attachment, NODE, [fixture('lines.mjs'), '300000']);
    assert.equal((await run.exit).code, 0);
    await attachment.exited(10_000);
    await c.close();
    const s = c.stats().stdout;
    assert.equal(s.lines, 300_000);
    assert.ok(s.suppressed_lines > 0, 'a flood of this size is rate limited');
    assert.equal(s.copied_lines + s.suppressed_lines, 300_000);
    assert.equal(delivered, s.copied_lines);
  });

  void it('a crashed child’s partial last line is in the file at once without max_size, and once split ends with it', { timeout: 30_000 }, async () => {
    const plain = scratch.dir('partial-b');
    const a = capture(plain);
    const first = await splitAttach(a);
    const r1 = runSplit(first, NODE, [outputFixture('pieces.mjs'), 'done\\n', 'half a li', '--crash']);
    assert.equal((await r1.exit).signal, 'SIGKILL');
    await waitFor('the partial line in the file', () => readFileSync(path.join(plain, 'w.out.log'), 'utf8') === 'done\nhalf a li');
    await first.exited();
    await a.close();
    assert.equal(a.stats().stdout.lines, 2, 'the partial line counts once the instance ended');

    const sized = scratch.dir('partial-c');
    const b = capture(sized, { max_size: '1MiB' });
    const second = await splitAttach(b);
    const r2 = runSplit(second, NODE, [outputFixture('pieces.mjs'), 'done\\n', 'half a li', '--crash']);
    assert.equal((await r2.exit).signal, 'SIGKILL');
    await b.close(); // with -C split keeps a line whole, so it holds the line in progress until it ends
    assert.equal(allText(sized, 'w.out'), 'done\nhalf a li');
  });

  void it('a new capture on the same directory continues the numbering', { timeout: 30_000 }, async () => {
    const dir = scratch.dir('renumber');
    for (const lines of ['300', '200']) {
      const c = capture(dir, { max_size: '4KiB', keep: 1000 });
      const attachment = await splitAttach(c);
      assert.equal((await runSplit(attachment, NODE, [outputFixture('numbered.mjs'), lines, '64']).exit).code, 0);
      await attachment.exited();
      await c.close();
    }
    const segments = readSegments(dir, 'w.out');
    assert.deepEqual(
      segments.map((s) => s.number),
      segments.map((_, i) => i),
      'one sequence across both',
    );
    assert.equal(allText(dir, 'w.out'), expectedNumbered(300, 64) + expectedNumbered(200, 64));
  });

  void it('one split serves every instance: restarts append to the same segment', { timeout: 30_000 }, async () => {
    const dir = scratch.dir('restarts');
    const c = capture(dir);
    for (let i = 0; i < 3; i++) {
      const attachment = await splitAttach(c);
      assert.equal((await runSplit(attachment, NODE, [outputFixture('numbered.mjs'), '10', '32']).exit).code, 0);
      await attachment.exited();
    }
    await c.close();
    assert.deepEqual(
      readSegments(dir, 'w.out').map((s) => s.name),
      ['w.out.000000.log'],
    );
    assert.equal(allText(dir, 'w.out'), expectedNumbered(10, 32).repeat(3));
    assert.equal(c.stats().stdout.lines, 30);
  });

  void it('a split left running by an earlier writer is waited for, then killed past the bound, before a new one takes the numbers', { timeout: 30_000 }, async () => {
    const dir = scratch.dir('predecessor');
    const support = await detectSplit();
    const segments = new LogSegments({ dir, key: 'p.out' });
    const old = await SplitWriter.start({ binary: support.binary, segments, logger: silent });
    // `old` keeps its write end open: it would never exit by itself.
    const next = await SplitWriter.start({ binary: support.binary, segments: new LogSegments({ dir, key: 'p.out' }), logger: silent, predecessorWaitMs: 200 });
    const exit = await old.exited;
    assert.equal(exit.signal, 'SIGKILL');
    assert.equal(next.first, old.first + 1);
    assert.equal(await next.end(5_000), true);
    await old.end(0);
  });

  void it('falls back to the master-written path when split is missing or is not GNU split, and says why', { timeout: 30_000 }, async () => {
    for (const binary of ['/nonexistent/split', which('true').path]) {
      const dir = scratch.dir('fallback');
      const c = capture(dir, {}, { splitBinary: binary });
      assert.equal(await c.attachSplit(silent), null);
      assert.equal(c.writer.writer, 'master');
      assert.match(c.writer.note ?? '', /GNU split is not usable/);
      const run = runPiped(c, NODE, [outputFixture('numbered.mjs'), '100', '40']);
      assert.equal((await run.exit).code, 0);
      await run.done;
      await c.close();
      assert.equal(allText(dir, 'w.out'), expectedNumbered(100, 40));
      assert.equal(c.stats().stdout.writer, 'master');
      assert.match(c.stats().stdout.writer_note ?? '', /does not survive a master crash/);
    }
  });

  void it('timestamp: true keeps the master-written path, saying the output does not survive a master crash', async () => {
    const c = capture(scratch.dir('ts'), { timestamp: true });
    assert.equal(await c.attachSplit(silent), null);
    assert.match(c.writer.note ?? '', /timestamp: true.*does not survive a master crash/);
  });

  void it('leaves no split process behind after close', { timeout: 30_000 }, async () => {
    const dir = scratch.dir('leftover');
    const c = capture(dir);
    const attachment = await splitAttach(c);
    const run = runSplit(attachment, NODE, [outputFixture('numbered.mjs'), '10', '32']);
    await run.exit;
    await attachment.exited();
    const pids = splitsWriting(dir);
    assert.equal(pids.length, 2, 'one split per stream while the worker exists');
    await c.close();
    assert.deepEqual(splitsWriting(dir), [], 'every split exited');
  });
});

/** Live split processes whose output prefix is under `dir`. */
function splitsWriting(dir: string): string[] {
  return readdirSync('/proc').filter((pid) => {
    if (!/^\d+$/.test(pid)) return false;
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return path.basename(argv[0] ?? '') === 'split' && argv.some((a) => a.startsWith(dir));
    } catch {
      return false;
    }
  });
}
