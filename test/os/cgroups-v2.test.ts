// cgroup v2 for real: a cgroup2 hierarchy mounted by this test (on a hybrid host it is the same
// unified tree as /sys/fs/cgroup/unified, with whatever controllers the host left to v2). Groups,
// the launcher joining one, cgroup.kill and the freeze-kill fallback on a setsid escaper,
// cpu.stat, the cgroup.events exit signal and the sweep. Kernel limits are asserted only as far as
// the controllers are really there: a missing controller must be reported, never faked.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CgroupManager, detectCgroups, ExitPoller, identityOf, planLaunch, readMounts, type CgroupSupport, type ExitInfo, type WorkerCgroup } from '../../src/os/index.js';
import type { CgroupV2 } from '../../src/os/cgroups/v2.js';
import { Children, deadMastersManager, NODE, osFixture, running, waitFor } from './helpers.js';
import { assertEmptyGroupsRemoved } from './empty-groups.js';
import { assertMembershipFollows } from './sampler-membership.js';

const PARENT = `hsu-test-v2-${process.pid}`;
const children = new Children();
const created: WorkerCgroup[] = [];
let mountPoint: string | undefined;
let support: CgroupSupport | undefined;
let manager: CgroupManager | undefined;

/** Our own cgroup2 mount when the kernel allows one; else the host's, if writable. */
function setUp(): string | undefined {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hsu-cg2-'));
  try {
    execFileSync('mount', ['-t', 'cgroup2', 'none', dir], { stdio: 'ignore' });
    mountPoint = dir;
    return dir;
  } catch {
    rmdirSync(dir);
    return readMounts().v2;
  }
}

const mount = process.getuid?.() === 0 ? setUp() : undefined;
if (mount !== undefined) {
  support = detectCgroups({ mounts: { v2: mount, v1: new Map() }, prefer: 'v2', parent: PARENT });
  if (support.mode === 'cgroup-v2') manager = new CgroupManager({ support });
}
const skip = manager === undefined ? `no writable cgroup2 hierarchy: ${support?.reason ?? 'not root or no mount'}` : false;

async function group(workerId: string): Promise<WorkerCgroup> {
  const g = await manager!.create(workerId);
  created.push(g);
  return g;
}

after(async () => {
  await children.killAll();
  for (const g of created) await g.remove();
  manager?.removeParentIfEmpty();
  if (mount !== undefined) assert.equal(existsSync(path.join(mount, PARENT)), false, 'parent group left behind');
  if (mountPoint !== undefined) {
    execFileSync('umount', [mountPoint]);
    rmdirSync(mountPoint);
  }
});

void describe('cgroup v2', { skip }, () => {
  void it('sets the limits whose controllers exist and reports the others unavailable', async () => {
    const g = await group('limits');
    const report = g.setLimits({ memory_bytes: 64 * 2 ** 20, cpu_percent: 50, pids_max: 16 });
    assert.deepEqual([...report.applied, ...report.unavailable].sort(), ['cpu_percent', 'memory_bytes', 'pids_max']);
    const dir = g.dirs[0]!;
    const expected: Record<string, [string, string]> = { memory_bytes: ['memory.max', String(64 * 2 ** 20)], cpu_percent: ['cpu.max', '50000 100000'], pids_max: ['pids.max', '16'] };
    for (const key of report.applied) assert.equal(readFileSync(path.join(dir, expected[key]![0]), 'utf8').trim(), expected[key]![1]);
    for (const key of report.unavailable) assert.equal(existsSync(path.join(dir, expected[key]![0])), false, `${key} reported unavailable but its file exists`);
    // Detection says which controllers it saw, so diagnostics can explain a poll fallback.
    assert.deepEqual([...support!.controllers].sort(), [...report.applied].map((k) => ({ memory_bytes: 'memory', cpu_percent: 'cpu', pids_max: 'pids' })[k]).sort());
  });

  void it('the launcher puts the program in its v2 group before exec', async () => {
    const g = await group('joined');
    const plan = planLaunch({ file: NODE, args: [osFixture('report.mjs')], cgroupProcsFiles: g.procsFiles });
    const child = children.spawn(plan.file, [...plan.args]);
    let out = '';
    for await (const chunk of child.stdout!) out += String(chunk);
    const report = JSON.parse(out) as { cgroup: string };
    assert.match(report.cgroup, new RegExp(`^0::/${PARENT}/${g.name.replace(/\./g, '\\.')}$`, 'm'));
  });

  for (const useKillFile of [true, false]) {
    void it(`kills a setsid escaper and its daemon (${useKillFile ? 'cgroup.kill' : 'freeze, SIGKILL, thaw'})`, async () => {
      const g = (await group(useKillFile ? 'esc-kill' : 'esc-freeze')) as CgroupV2;
      const plan = planLaunch({ file: NODE, args: [osFixture('escaper.mjs')], cgroupProcsFiles: g.procsFiles });
      const { child, words } = await children.ready(plan.file, plan.args);
      const daemon = Number(words[1]);
      assert.ok(g.pids().includes(daemon));
      const exited = once(child, 'exit');
      const report = await g.kill(5_000, useKillFile);
      assert.equal(report.method, useKillFile ? 'cgroup.kill' : 'freeze-kill');
      assert.ok(report.killed >= 2);
      await exited;
      await waitFor('the daemon to be gone', () => !running(daemon));
      assert.deepEqual(g.pids(), []);
    });
  }

  void it('reads cpu usage from cpu.stat', async () => {
    const g = await group('cpu');
    const plan = planLaunch({ file: NODE, args: [osFixture('spin.mjs')], cgroupProcsFiles: g.procsFiles });
    await children.ready(plan.file, plan.args);
    const usage = await waitFor('cpu usage', () => ((g.readUsage().cpu_usage_usec ?? 0) > 50_000 ? g.readUsage() : undefined));
    assert.ok((usage.cpu_usage_usec ?? 0) > 50_000);
    assert.ok((g.readStats().pids ?? 0) >= 1);
    await g.kill();
  });

  void it('the sampler re-reads cgroup.procs through a kept descriptor and sees members join and leave', async () => {
    await assertMembershipFollows(await group('members'), children);
  });

  void it('cgroup.events reports the group emptying without waiting for a poll', async () => {
    const g = await group('events');
    const plan = planLaunch({ file: NODE, args: [osFixture('idle.mjs')], cgroupProcsFiles: g.procsFiles });
    const { child } = await children.ready(plan.file, plan.args);
    // A poll interval far longer than the test: only the cgroup.events notification can fire.
    const poller = new ExitPoller(600_000);
    const seen = new Promise<ExitInfo>((resolve) => poller.watch(identityOf(child.pid!)!, resolve, { eventsFile: g.eventsFile! }));
    child.kill('SIGKILL');
    const info = await seen;
    assert.equal(info.reason, 'cgroup-empty');
    assert.equal(poller.size, 0);
  });

  void it('sweeps a dead master’s v2 groups', async () => {
    const dead = await deadMastersManager(children, support!);
    const orphan = await dead.create('orphan');
    const { child: left } = await children.ready(NODE, [osFixture('idle.mjs')]);
    orphan.addPid(left.pid!);
    const exited = once(left, 'exit');
    const report = await manager!.sweep();
    assert.deepEqual(report.removed, [orphan.name]);
    await exited;
    assert.equal(existsSync(orphan.dirs[0]!), false);
  });

  void it("removes any dead master's empty v2 groups, never one with a member, never a live master's", async () => {
    await assertEmptyGroupsRemoved(manager!, support!, children, await group('mine-empty'));
  });
});
