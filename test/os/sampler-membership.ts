// Shared by the v1 and v2 sampler tests: the sampler's view of a group's members follows joins,
// forks and exits from one pass to the next, whichever way it reads cgroup.procs (v1 afresh and
// gated by pids.current, v2 through a kept descriptor).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { identityOf, planLaunch, ProcSampler, type WorkerCgroup } from '../../src/os/index.js';
import { NODE, osFixture, type Children } from './helpers.js';

export async function assertMembershipFollows(g: WorkerCgroup, children: Children): Promise<void> {
  const plan = planLaunch({ file: NODE, args: [osFixture('idle.mjs')], cgroupProcsFiles: g.procsFiles });
  const { child } = await children.ready(plan.file, plan.args);
  const sampler = new ProcSampler();
  sampler.watch('w', identityOf(child.pid!)!, { cgroup: g });
  const descendants = (): number => sampler.sample()[0]!.descendants;
  try {
    // Several passes on an unchanged group: the reused list stays right.
    for (let i = 0; i < 3; i++) assert.equal(descendants(), 0);
    // A process that joins (not a child of the root: only its membership makes it a descendant).
    const joined = children.spawn('sleep', ['1000']);
    await once(joined, 'spawn');
    g.addPid(joined.pid!);
    assert.equal(descendants(), 1, 'a joined member is counted at the next pass');
    assert.equal(descendants(), 1);
    // One leaves and another joins between two passes: the count is the same, the members are not.
    const second = children.spawn('sleep', ['1000']);
    await once(second, 'spawn');
    const gone = once(joined, 'exit');
    joined.kill('SIGKILL');
    await gone;
    g.addPid(second.pid!);
    // The kernel publishes a task's RSS lazily: a process that has not run since its exec can read
    // 0 pages in /proc/PID/stat (seen under load). The tree's sum is only checked once it has.
    await untilRssShows(second.pid!);
    const sample = sampler.sample()[0]!;
    assert.equal(sample.descendants, 1);
    assert.ok(sample.rss_bytes > sample.root_rss_bytes, "the new member's RSS is in the tree");
    const left = once(second, 'exit');
    second.kill('SIGKILL');
    await left;
    assert.equal(descendants(), 0, 'an exited member is gone at the next pass');
    assert.ok(sampler.keptFiles > 0);
  } finally {
    sampler.close();
  }
  assert.equal(sampler.keptFiles, 0, 'close() released every kept descriptor');
}

/** Waits (up to 10 s) until /proc/PID/stat reports resident pages for `pid`. */
async function untilRssShows(pid: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[21]) > 0) return;
    assert.ok(Date.now() < deadline, `pid ${pid} shows no resident pages after 10 s`);
    await sleep(10);
  }
}
