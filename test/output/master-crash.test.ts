// The property adoption relies on: a worker whose output split writes keeps writing, into files
// that keep growing (and rotating), after its master is killed with SIGKILL; a new master then
// follows the same files from their end and takes over the numbering once the old split is done.
// describe/it return promises the runner tracks itself; `void` says so to the floating-promise rule.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { isAlive } from '../../src/os/proc.js';
import { OutputCapture, resolveLogSettings } from '../../src/runtimes/output/index.js';
import { repoRoot } from '../helpers/paths.js';
import { NODE, Scratch, expectedNumbered, killQuietly, outputFixture, readSegments, runSplit, silent, waitFor } from './helpers.js';

const scratch = new Scratch();
const cleanup: (() => void)[] = [];
after(() => {
  for (const fn of cleanup) fn();
  scratch.remove();
});

/** Live split processes writing under `dir`. */
function splitsWriting(dir: string): number[] {
  return readdirSync('/proc')
    .filter((pid) => /^\d+$/.test(pid))
    .filter((pid) => {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return path.basename(argv[0] ?? '') === 'split' && argv.some((a) => a.startsWith(dir)) && isAlive(Number(pid));
      } catch {
        return false;
      }
    })
    .map(Number);
}

function ticks(dir: string, key: string): number[] {
  return [...readSegments(dir, key).map((s) => s.text).join('').matchAll(/^t[io]ck (\d+)$/gm)].map((m) => Number(m[1]));
}

void describe('output when the master is killed', () => {
  void it('the worker keeps writing into its files after SIGKILL of the master; a new master adopts the files and the numbering', { timeout: 60_000 }, async () => {
    const dir = scratch.dir('crash');
    const master = spawn(NODE, [path.join(repoRoot, 'dist', 'test', 'output', 'fixtures', 'split-master.js'), dir, outputFixture('ticker.sh')], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanup.push(() => killQuietly(master.pid));
    const [first] = (await once(createInterface({ input: master.stdout }), 'line')) as [string];
    const worker = (JSON.parse(first) as { worker: number }).worker;
    cleanup.push(() => killQuietly(worker));
    await waitFor('a few ticks in the files', () => ticks(dir, 'tick.out').length >= 5);
    const splits = splitsWriting(dir);
    assert.equal(splits.length, 2, 'one split per stream');

    master.kill('SIGKILL');
    await once(master, 'exit');
    const atDeath = { out: ticks(dir, 'tick.out').length, err: ticks(dir, 'tick.err').length, segments: readSegments(dir, 'tick.out').length };
    await waitFor('the files to keep growing without a master', () => ticks(dir, 'tick.out').length >= atDeath.out + 150 && ticks(dir, 'tick.err').length >= atDeath.err + 150);
    assert.equal(isAlive(worker), true, 'the worker is alive: no SIGPIPE, no stall');
    assert.ok(readSegments(dir, 'tick.out').length > atDeath.segments, 'split kept rotating on its own');
    const out = ticks(dir, 'tick.out');
    assert.deepEqual(
      out,
      out.map((_, i) => i + 1),
      'every tick, in order, across segments',
    );

    // A new master: follows the newest segments from their end, attributed to the adopted pid.
    const lines: { line: string; pid: number | undefined }[] = [];
    const capture = new OutputCapture({ workerId: 'tick', logDir: dir, logs: resolveLogSettings({ max_size: 512, keep: 100_000, gzip: false, timestamp: false }), onLine: (_s, line, pid) => void lines.push({ line, pid }) });
    const adoptedAt = ticks(dir, 'tick.out').length;
    const adopted = await capture.adopt(worker, silent);
    await waitFor('adopted output', () => lines.filter((l) => l.line.startsWith('tick')).length >= 20);
    const firstTick = Number(/^tick (\d+)$/.exec(lines.find((l) => l.line.startsWith('tick'))!.line)?.[1]);
    assert.ok(firstTick >= adoptedAt - 5, `followed from the end (first copied tick ${firstTick}, ${adoptedAt} were on disk)`);
    assert.ok(lines.every((l) => l.pid === worker));
    const newest = (): string => readSegments(dir, 'tick.out').at(-1)!.name;
    await waitFor('the symlink to name the newest segment again', () => readlinkSync(path.join(dir, 'tick.out.log')) === newest());

    // The adopted instance ends; its split sees the end of its input and exits.
    process.kill(worker, 'SIGKILL');
    await waitFor('the old splits to exit', () => splitsWriting(dir).length === 0);
    await adopted.exited();
    const before = readSegments(dir, 'tick.out').at(-1)!.number;
    const next = await capture.attachSplit(silent);
    assert.ok(next !== null);
    const run = runSplit(next, NODE, [outputFixture('numbered.mjs'), '5', '32']);
    assert.equal((await run.exit).code, 0);
    await next.exited(5_000);
    await capture.close();
    const last = readSegments(dir, 'tick.out').at(-1)!;
    assert.equal(last.number, before + 1, 'the new split continues the numbering');
    assert.equal(last.text, expectedNumbered(5, 32));
    assert.ok(lines.some((l) => l.line === expectedNumbered(1, 32).trimEnd()), 'the adopted follower moved on to the new split’s segment');
    assert.deepEqual(splitsWriting(dir), []);
  });
});
