// cgroup v1 for real (this machine's CI has writable memory, cpu, cpuacct, pids and freezer
// hierarchies): groups, kernel limits, the launcher joining a group before exec, stats, a memory
// hog caught by the poll path and OOM-killed by the kernel, a setsid escaper killed through its
// group, the sweep of a dead master's groups, and a directory that cannot be created.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CgroupManager, detectCgroups, identityOf, planLaunch, ProcSampler, type WorkerCgroup } from '../../src/os/index.js';
import { kernelLimitsFor, limitsSchema, LimitsMonitor } from '../../src/limits/index.js';
import { isHsuError } from '../../src/errors.js';
import { Children, deadMastersManager, NODE, osFixture, readStatOf, running, sleep, waitFor } from './helpers.js';
import { assertEmptyGroupsRemoved } from './empty-groups.js';
import { assertMembershipFollows } from './sampler-membership.js';

const PARENT = `hsu-test-v1-${process.pid}`;
const support = detectCgroups({ parent: PARENT, prefer: 'v1' });
const skip = support.mode === 'cgroup-v1' ? false : `no writable cgroup v1 here: ${support.reason}`;
const children = new Children();
const manager = support.mode === 'cgroup-v1' ? new CgroupManager({ support }) : undefined;
const created: WorkerCgroup[] = [];

async function group(workerId: string, m = manager): Promise<WorkerCgroup> {
  const g = await m!.create(workerId);
  created.push(g);
  return g;
}

after(async () => {
  await children.killAll();
  for (const g of created) await g.remove();
  manager?.removeParentIfEmpty();
  // Nothing left behind: no parent directory in any controller hierarchy.
  for (const mount of support.v1Mounts.values()) assert.equal(existsSync(path.join(mount, PARENT)), false, `${mount}/${PARENT} left behind`);
});

void describe('cgroup v1', { skip }, () => {
  void it('detection on this machine names the hierarchy and the reason', () => {
    const auto = detectCgroups({ parent: PARENT });
    assert.ok(['cgroup-v1', 'cgroup-v2'].includes(auto.mode), auto.reason);
    assert.ok(auto.reason.length > 0);
    for (const controller of ['memory', 'cpu', 'pids', 'freezer']) assert.ok(support.controllers.includes(controller), `${controller} in ${support.controllers.join(',')}`);
  });

  void it('creates a group, sets kernel limits, and the launcher puts the child in it before exec', async () => {
    const g = await group('limits');
    assert.match(g.name, new RegExp(`^hsu\\.m${process.pid}s\\d+\\.limits$`));
    const applied = g.setLimits({ memory_bytes: 64 * 2 ** 20, cpu_percent: 50, pids_max: 32 });
    assert.deepEqual([...applied.applied].sort(), ['cpu_percent', 'memory_bytes', 'pids_max']);
    const mem = g.dirs.find((d) => d.includes('/memory/'))!;
    assert.equal(readFileSync(path.join(mem, 'memory.limit_in_bytes'), 'utf8').trim(), String(64 * 2 ** 20));
    const cpu = g.dirs.find((d) => d.includes('/cpu/'))!;
    assert.equal(readFileSync(path.join(cpu, 'cpu.cfs_quota_us'), 'utf8').trim(), '50000');

    const plan = planLaunch({ file: NODE, args: [osFixture('report.mjs')], cgroupProcsFiles: g.procsFiles });
    const child = children.spawn(plan.file, [...plan.args]);
    let out = '';
    for await (const chunk of child.stdout!) out += String(chunk);
    const report = JSON.parse(out) as { pid: number; cgroup: string };
    assert.equal(report.pid, child.pid, 'exec replaced the shell: same pid');
    // The program itself read /proc/self/cgroup: it was in the group from its first instruction.
    assert.match(report.cgroup, new RegExp(`:memory:/${PARENT}/${g.name.replace(/\./g, '\\.')}\\n`));
    assert.match(report.cgroup, new RegExp(`:pids:/${PARENT}/${g.name.replace(/\./g, '\\.')}\\n`));
  });

  void it('lists members, reads stats and kills every member', async () => {
    const g = await group('stats');
    const plan = planLaunch({ file: NODE, args: [osFixture('tree.mjs'), '2'], cgroupProcsFiles: g.procsFiles });
    const { child, words } = await children.ready(plan.file, plan.args);
    const pids = words.map(Number);
    const members = g.pids();
    for (const pid of pids.slice(0, 3)) assert.ok(members.includes(pid), `${pid} in ${members.join(',')}`);
    const stats = g.readStats();
    assert.ok((stats.memory_bytes ?? 0) > 0 && (stats.cpu_usage_usec ?? 0) > 0 && (stats.pids ?? 0) >= 4, JSON.stringify(stats));
    assert.equal(stats.oom_kills, 0);
    const exited = once(child, 'exit');
    const report = await g.kill();
    assert.equal(report.method, 'freeze-kill');
    assert.ok(report.killed >= 4);
    assert.deepEqual(g.pids(), []);
    assert.deepEqual((await exited)[1], 'SIGKILL');
    for (const pid of pids) assert.equal(running(pid), false);
  });

  void it('a memory hog is caught by the poll path at max_rss and OOM-killed by the kernel above it', async () => {
    const limits = limitsSchema.parse({ memory: { max_rss: '96MB', policy: 'restart' } });
    const kernel = kernelLimitsFor(limits);
    assert.equal(kernel.memory_bytes, 120_000_000);
    const g = await group('hog');
    assert.deepEqual(g.setLimits(kernel).applied, ['memory_bytes']);
    const plan = planLaunch({ file: NODE, args: [osFixture('hog.mjs'), '4', '20'], cgroupProcsFiles: g.procsFiles });
    const { child } = await children.ready(plan.file, plan.args);
    const exited = once(child, 'exit');
    const sampler = new ProcSampler();
    sampler.watch('hog', identityOf(child.pid!)!, { cgroup: g });
    const monitor = new LimitsMonitor(limits);
    // The poll path: sample, evaluate, until the evaluator asks for the policy's action.
    const decision = await waitFor('the memory violation', () => {
      const [sample] = sampler.sample();
      const d = monitor.observe(sample!);
      return d.action === undefined ? undefined : d;
    }, 20_000, 50);
    assert.equal(decision.action, 'restart');
    assert.equal(decision.violations[0]?.limit, 'memory');
    assert.ok((decision.violations[0]?.observed ?? 0) > 96_000_000);
    // Not acting on it here: the kernel limit 25 % above is the backstop, and it kills the hog.
    const [, signal] = await exited;
    assert.equal(signal, 'SIGKILL');
    assert.ok((g.readStats().oom_kills ?? 0) >= 1, JSON.stringify(g.readStats()));
    sampler.close();
  });

  void it('the sampler reuses the member list only while pids.current agrees, and sees members join and leave', async () => {
    await assertMembershipFollows(await group('members'), children);
  });

  void it('a group removed while the sampler keeps descriptors in it goes away, and the next pass reports the worker gone', async () => {
    const g = await manager!.create('removed');
    const plan = planLaunch({ file: NODE, args: [osFixture('idle.mjs')], cgroupProcsFiles: g.procsFiles });
    const { child } = await children.ready(plan.file, plan.args);
    const sampler = new ProcSampler();
    sampler.watch('w', identityOf(child.pid!)!, { cgroup: g });
    assert.equal(sampler.sample()[0]?.alive, true);
    const held = sampler.keptFiles;
    assert.ok(held >= 3, `kept ${held}`);
    const exited = once(child, 'exit');
    await g.remove(); // kills the member, then rmdir with our descriptors still open
    await exited;
    for (const dir of g.dirs) assert.equal(existsSync(dir), false, `${dir} still there`);
    const after = sampler.sample()[0]!;
    assert.equal(after.alive, false);
    assert.equal(after.cgroup_memory_bytes, undefined);
    // The dead files (ENODEV, ESRCH) were closed as they failed; the rest go with unwatch.
    assert.ok(sampler.keptFiles < held);
    sampler.unwatch('w');
    assert.equal(sampler.keptFiles, 1, "only the sampler's own /proc/uptime");
    sampler.close();
    assert.equal(sampler.keptFiles, 0);
  });

  void it('kills a setsid, double-forked daemon through the cgroup', async () => {
    const g = await group('escaper');
    const plan = planLaunch({ file: NODE, args: [osFixture('escaper.mjs')], cgroupProcsFiles: g.procsFiles });
    const { child, words } = await children.ready(plan.file, plan.args);
    const daemon = Number(words[1]);
    const worker = readStatOf(child.pid!);
    const escaped = readStatOf(daemon);
    // Out of the worker's session and process group, and no longer its descendant.
    assert.notEqual(escaped.sid, worker.sid);
    assert.notEqual(escaped.pgid, worker.pgid);
    assert.notEqual(escaped.ppid, child.pid);
    assert.ok(g.pids().includes(daemon));
    const exited = once(child, 'exit');
    await g.kill();
    await exited;
    await waitFor('the daemon to be gone', () => !running(daemon));
    assert.deepEqual(g.pids(), []);
  });

  void it('sweeps the groups of a dead master, spares what the caller keeps and never touches a live master', async () => {
    const dead = await deadMastersManager(children, support);
    const orphan = await dead.create('orphan');
    const kept = await dead.create('kept');
    const { child: left } = await children.ready(NODE, [osFixture('idle.mjs')]);
    orphan.addPid(left.pid!);
    const mine = await group('mine');

    const listed = manager!.list();
    assert.equal(listed.find((g) => g.name === orphan.name)?.owner_alive, false);
    assert.deepEqual(listed.find((g) => g.name === orphan.name)?.pids, [left.pid]);
    assert.equal(listed.find((g) => g.name === mine.name)?.owner_alive, true);

    const exited = once(left, 'exit');
    const report = await manager!.sweep((g) => g.worker_id === 'kept');
    assert.deepEqual(report.removed, [orphan.name]);
    assert.deepEqual(report.spared, [kept.name]);
    assert.deepEqual(report.failed, []);
    await exited;
    assert.ok(mine.dirs.every((d) => existsSync(d)));
    assert.ok(orphan.dirs.every((d) => !existsSync(d)));
    await kept.remove();
  });

  void it("removes any dead master's empty groups, never one with a member, never a live master's", async () => {
    await assertEmptyGroupsRemoved(manager!, support, children, await group('mine-empty'));
  });

  void it('a directory that cannot be created is a coded error and the worker falls back to polling', async () => {
    // A control file as the parent: mkdir below it fails in the real cgroupfs (ENOTDIR).
    const broken = new CgroupManager({ support: { ...support, parent: 'cgroup.procs' } });
    await assert.rejects(broken.create('w'), (e) => isHsuError(e, 'CGROUP_CREATE_FAILED'));
    const attempt = await broken.tryCreate('w');
    assert.equal(attempt.enforcement, 'poll');
    assert.equal(attempt.error?.code, 'HSU_ERR_CGROUP_CREATE_FAILED');
    assert.equal(attempt.cgroup, undefined);
    assert.match(attempt.reason, /polling/);

    const none = new CgroupManager({ support: detectCgroups({ prefer: 'poll' }) });
    assert.equal((await none.tryCreate('w')).enforcement, 'poll');
    await assert.rejects(none.create('w'), (e) => isHsuError(e, 'CGROUP_UNAVAILABLE'));
    await sleep(0);
  });
});
