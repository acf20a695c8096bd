// /proc readers, tree signalling and executable lookup, checked against real processes.
// describe/it return promises the runner tracks itself; `void` says so to the floating-promise rule.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CpuSampler,
  isAlive,
  isSameProcess,
  listDescendants,
  listProcessGroup,
  parseProcStat,
  processIdentity,
  readProcStat,
  readRssBytes,
  signalTree,
  waitForGone,
  which,
} from '../src/os/index.js';
import { fixture } from './helpers/paths.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'hsu-proc-'));
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

/** Spawns a child and resolves with its first stdout line. */
async function spawnUntilLine(file: string, args: string[], detached = false): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'], detached });
  children.push(child);
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return { child, line: chunk.toString().split('\n')[0]! };
}

void describe('parseProcStat', () => {
  void it('parses a comm containing spaces and parentheses by splitting at the last )', () => {
    const fields = ['S', '1', '42', '42', '0', '-1', '4194560', '1', '0', '0', '0', '7', '3', '0', '0', '20', '0', '1', '0', '12345'];
    const stat = parseProcStat(`4242 (a) b (c d)) ${fields.join(' ')} 1000 200 18446744073709551615\n`);
    assert.deepEqual(stat, { pid: 4242, ppid: 1, pgid: 42, state: 'S', utimeTicks: 7, stimeTicks: 3, startTimeTicks: 12345 });
  });

  void it('rejects malformed text', () => {
    assert.equal(parseProcStat('garbage'), undefined);
    assert.equal(parseProcStat('12 (x) S 1'), undefined);
  });

  void it('reads a live process whose executable name has spaces and parentheses', { timeout: 10_000 }, async () => {
    // comm is the executable's basename, so a symlink to node gives us a hostile comm for real.
    const link = path.join(tmp, 'a) b (c');
    symlinkSync(process.execPath, link);
    const { child } = await spawnUntilLine(link, [fixture('forever.mjs')]);
    const stat = readProcStat(child.pid!);
    assert.ok(stat !== undefined);
    assert.equal(stat.pid, child.pid);
    assert.equal(stat.ppid, process.pid);
    assert.match(stat.state, /^[RSD]$/);
    child.kill('SIGKILL');
    await once(child, 'exit');
  });
});

void describe('proc readers', () => {
  void it('readProcStat of the current process matches what node knows', () => {
    const stat = readProcStat(process.pid);
    assert.ok(stat !== undefined);
    assert.equal(stat.ppid, process.ppid);
    assert.ok(stat.startTimeTicks > 0);
  });

  void it('isAlive is true for us and false for a reaped child or an impossible pid', async () => {
    assert.equal(isAlive(process.pid), true);
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await once(child, 'exit');
    assert.equal(isAlive(child.pid!), false);
    assert.equal(isAlive(0), false);
    assert.equal(isAlive(2 ** 31 - 1), false);
  });

  void it('readRssBytes returns a plausible size for the current process', () => {
    const rss = readRssBytes(process.pid);
    assert.ok(rss !== undefined && rss > 4 * 1024 * 1024 && rss < 8 * 1024 ** 3, `rss=${rss}`);
    assert.equal(readRssBytes(2 ** 31 - 1), undefined);
  });

  void it('CpuSampler reports average since start, then the busy interval', () => {
    const sampler = new CpuSampler(process.pid);
    const first = sampler.sample();
    assert.ok(first !== undefined && first >= 0, `first=${first}`);
    // Spin until we have really had 200 ms of CPU (a loaded machine may give us less than a core),
    // then compare the sampler with what the kernel told this process directly.
    const wallStart = performance.now();
    const cpuStart = process.cpuUsage();
    while (process.cpuUsage(cpuStart).user + process.cpuUsage(cpuStart).system < 200_000 && performance.now() - wallStart < 5_000) {
      // spin
    }
    const cpu = process.cpuUsage(cpuStart);
    const expected = ((cpu.user + cpu.system) / 1000 / (performance.now() - wallStart)) * 100;
    const busy = sampler.sample();
    const cores = os.availableParallelism();
    assert.ok(busy !== undefined && Math.abs(busy - expected) < 25 && busy <= 100 * cores + 20, `busy=${busy} expected≈${expected.toFixed(1)}`);
    assert.equal(new CpuSampler(2 ** 31 - 1).sample(), undefined);
  });

  void it('processIdentity and isSameProcess tell a live process from a gone one', async () => {
    const me = processIdentity(process.pid);
    assert.ok(me !== undefined && isSameProcess(me));
    assert.equal(isSameProcess({ pid: process.pid, startTimeTicks: me.startTimeTicks + 1 }), false);
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    const id = processIdentity(child.pid!);
    await once(child, 'exit');
    assert.ok(id === undefined || !isSameProcess(id));
  });
});

void describe('process trees', () => {
  void it('lists descendants, the process group, and signalTree reaches the setsid grandchild', { timeout: 15_000 }, async () => {
    const { child, line } = await spawnUntilLine(process.execPath, [fixture('grandchildren.mjs')], true);
    const { grandchildren } = JSON.parse(line) as { grandchildren: [number, number] };
    const [inGroup, ownSession] = grandchildren;
    const pid = child.pid!;

    assert.deepEqual(new Set(listDescendants(pid)), new Set(grandchildren));
    const group = listProcessGroup(pid);
    assert.ok(group.includes(pid) && group.includes(inGroup), `group=${group}`);
    assert.ok(!group.includes(ownSession), 'the setsid grandchild left the group');

    const seen = signalTree(pid, pid, 'SIGKILL');
    assert.deepEqual(new Set(seen.map((id) => id.pid)), new Set(grandchildren));
    assert.equal(await waitForGone([pid, ...grandchildren], 5_000), true);
  });

  void it('waitForGone gives up after its timeout', async () => {
    const started = Date.now();
    assert.equal(await waitForGone([process.pid], 60), false);
    assert.ok(Date.now() - started >= 60);
  });
});

void describe('which', () => {
  void it('finds a bare name on PATH', () => {
    const sh = which('sh');
    assert.equal(sh.exists, true);
    assert.equal(sh.executable, true);
    assert.ok(path.isAbsolute(sh.path));
  });

  void it('reports a missing bare name and a missing path', () => {
    assert.deepEqual(which('hsu-no-such-command-xyz'), { path: 'hsu-no-such-command-xyz', exists: false, executable: false });
    assert.equal(which('/nonexistent/hsu/bin').exists, false);
  });

  void it('checks a path with a slash as is, relative to cwd, and refuses non-executables', () => {
    const file = path.join(tmp, 'plain.txt');
    writeFileSync(file, 'not a program\n', { mode: 0o644 });
    chmodSync(file, 0o644);
    assert.deepEqual(which('./plain.txt', { cwd: tmp }), { path: file, exists: true, executable: false });
    assert.equal(which(tmp).executable, false, 'a directory is not executable');
    assert.equal(which('sh', { pathEnv: '' }).exists, false, 'an empty PATH finds nothing');
    assert.equal(which('plain.txt', { pathEnv: tmp }).executable, false);
  });
});
