// One signal per process per escalation step: the tree kill signals the process group once (which
// reaches every process still in it) and each descendant that left the group once, never the
// leader or a group member a second time. Many servers read a second SIGTERM as "force".
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { signalTree } from '../../src/os/kill-tree.js';
import { readProcStat } from '../../src/os/proc.js';
import { alivePids, tempDir, waitForGone, withMaster } from '../helpers/master-helpers.js';
import { logLines, platformFixture, waitFor } from './support.js';

const T = { timeout: 30_000 };
const scratch = tempDir('kill-tree');
after(() => scratch.remove());
let reports = 0;

interface Tree {
  readonly report: string;
  /** role -> pid */
  readonly pids: Record<'leader' | 'member' | 'escaper' | 'escaper-child', number>;
}

function readyTree(report: string): Promise<Tree> {
  return waitFor('all four processes of the tree to be ready', () => {
    const ready = logLines(report).filter((l) => l.startsWith('ready '));
    if (ready.length < 4) return undefined;
    const pids = Object.fromEntries(ready.map((l) => [l.split(' ')[1], Number(l.split(' ')[2])])) as Tree['pids'];
    return { report, pids };
  });
}

/** SIGTERMs each process recorded, by pid. */
function sigtermsByPid(report: string): Map<number, number> {
  const counts = new Map<number, number>();
  for (const line of logLines(report).filter((l) => l.startsWith('sigterm '))) {
    const pid = Number(line.split(' ')[2]);
    counts.set(pid, (counts.get(pid) ?? 0) + 1);
  }
  return counts;
}

/** Runs `body` with process.kill wrapped for its duration only; returns every kill() as [target, signal]. */
async function countingKills(body: () => unknown): Promise<[number, string][]> {
  const kills: [number, string][] = [];
  const original = process.kill;
  process.kill = ((target: number, sig?: string | number) => {
    kills.push([target, String(sig)]);
    return original.call(process, target, sig);
  }) as typeof process.kill;
  try {
    await body();
  } finally {
    process.kill = original;
  }
  return kills;
}

async function countedSignalTree(pid: number, pgid: number, signal: NodeJS.Signals): Promise<number[]> {
  return (await countingKills(() => signalTree(pid, pgid, signal))).map(([target]) => target);
}

const byPid = (a: number, b: number): number => a - b;

void describe('signalTree', () => {
  it('signals the group once as -pgid and each escaper once; SIGKILL then ends the whole tree', T, async () => {
    const report = path.join(scratch.dir, `tree-${++reports}.log`);
    const leader = spawn(process.execPath, [platformFixture('term-tree.mjs'), 'leader', report], { stdio: 'ignore', detached: true });
    const tree = await readyTree(report);
    const { pids } = tree;
    try {
      assert.equal(pids.leader, leader.pid);
      // The premise: the member shares the leader's group, the escaper and its child left it.
      assert.equal(readProcStat(pids.member)?.pgid, pids.leader);
      assert.equal(readProcStat(pids.escaper)?.pgid, pids.escaper);
      assert.equal(readProcStat(pids['escaper-child'])?.pgid, pids.escaper);

      const targets = await countedSignalTree(pids.leader, pids.leader, 'SIGTERM');
      assert.deepEqual(
        [...targets].sort(byPid),
        [-pids.leader, pids.escaper, pids['escaper-child']].sort(byPid),
        'one kill() for the group and one per process outside it, nothing twice',
      );

      await waitFor('every process to record its SIGTERM', () => sigtermsByPid(report).size === 4);
      const killTargets = await countedSignalTree(pids.leader, pids.leader, 'SIGKILL');
      assert.equal(new Set(killTargets).size, killTargets.length, `a process was sent SIGKILL twice: ${killTargets.join(', ')}`);
      assert.deepEqual(await waitForGone(Object.values(pids)), [], 'the whole tree is gone after SIGKILL');
      // Every process is dead, so these counts are final.
      assert.deepEqual(
        Object.fromEntries(Object.entries(pids).map(([role, pid]) => [role, sigtermsByPid(report).get(pid) ?? 0])),
        { leader: 1, member: 1, escaper: 1, 'escaper-child': 1 },
      );
    } finally {
      for (const pid of alivePids(Object.values(pids))) process.kill(pid, 'SIGKILL');
    }
  });
});

void describe('stopping a process worker whose tree ignores SIGTERM', () => {
  it('each process of the tree gets exactly one SIGTERM before the SIGKILL step ends them all', T, () =>
    withMaster(async ({ master, marker }) => {
      const report = path.join(scratch.dir, `tree-${++reports}.log`);
      master.addWorker({
        id: 'tree',
        type: 'process',
        stop_timeout: '2s', // time enough for every member to record its SIGTERM on a loaded machine
        execution: { executable_path: process.execPath, args: [platformFixture('term-tree.mjs'), 'leader', report], environment: { HSU_TEST_MARKER: marker } },
      });
      await master.startWorker('tree');
      const { pids } = await readyTree(report);
      const kills = await countingKills(() => master.stopWorker('tree'));
      assert.deepEqual(
        kills.filter(([, signal]) => signal === 'SIGTERM').map(([target]) => target).sort(byPid),
        [-pids.leader, pids.escaper, pids['escaper-child']].sort(byPid),
        'the graceful step signalled the group once and each process outside it once',
      );
      assert.deepEqual(await waitForGone(Object.values(pids)), [], 'no process of the tree outlived the stop');
      const d = master.getWorkerStateWithDiagnostics('tree');
      assert.equal(d.last_exit?.forced, true, 'the tree ignored SIGTERM, so the SIGKILL step ended it');
      // What the processes saw (two signals sent back to back can merge into one, so this side alone proves less).
      assert.deepEqual(
        Object.fromEntries(Object.entries(pids).map(([role, pid]) => [role, sigtermsByPid(report).get(pid) ?? 0])),
        { leader: 1, member: 1, escaper: 1, 'escaper-child': 1 },
      );
    }),
  );
});
