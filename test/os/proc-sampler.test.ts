// The /proc sampler against real processes: RSS, CPU over a window, descriptors, threads,
// descendants (a setsid child included, a double-forked daemon through its cgroup), identity
// against recycled pids, and a soak with a memory bound.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CgroupManager, detectCgroups, identityOf, planLaunch, ProcSampler, type ResourceSample, type WorkerCgroup } from '../../src/os/index.js';
import { limitsSchema, LimitsMonitor } from '../../src/limits/index.js';
import { Children, NODE, osFixture, sleep, waitFor } from './helpers.js';

const children = new Children();
const groups: WorkerCgroup[] = [];
const PARENT = `hsu-test-sampler-${process.pid}`;
const support = detectCgroups({ parent: PARENT });
const manager = support.mode === 'poll' ? undefined : new CgroupManager({ support });

after(async () => {
  await children.killAll();
  for (const g of groups) await g.remove();
  manager?.removeParentIfEmpty();
  for (const dir of manager === undefined ? [] : support.mode === 'cgroup-v2' ? [support.parent] : [...support.v1Mounts.values()].map((m) => path.join(m, PARENT))) {
    assert.equal(existsSync(dir), false, `${dir} left behind`);
  }
});

async function idle(): Promise<number> {
  const { child } = await children.ready(NODE, [osFixture('idle.mjs')]);
  return child.pid!;
}

function one(sampler: ProcSampler, worker: string): ResourceSample {
  const sample = sampler.sample().find((s) => s.worker === worker);
  assert.ok(sample !== undefined);
  return sample;
}

void describe('ProcSampler', () => {
  void it('reports RSS and threads of a lone process as the kernel counts them', async () => {
    const pid = await idle();
    const sampler = new ProcSampler();
    sampler.watch('w', identityOf(pid)!);
    const sample = one(sampler, 'w');
    const vmRss = Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
    assert.equal(sample.alive, true);
    assert.equal(sample.rss_bytes, sample.root_rss_bytes);
    assert.ok(Math.abs(sample.rss_bytes - vmRss) / vmRss < 0.1, `${sample.rss_bytes} vs VmRSS ${vmRss}`);
    const threads = Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
    assert.equal(sample.root_threads, threads);
    assert.equal(sample.descendants, 0);
  });

  // What the spinner gets depends on the machine's load (2 shared cores in CI), so the checks are
  // relative: the sampler agrees with the kernel's own tick count, and a low limit separates the two.
  void it('tells a spinner from an idle process by CPU over the window, and the evaluator acts on it', async () => {
    const spinner = (await children.ready(NODE, [osFixture('spin.mjs')])).child.pid!;
    // sleep, not Node: a Node process still finishing its start-up under load is not idle.
    const quiet = children.spawn('sleep', ['1000']).pid!;
    await waitFor('sleep to exec', () => (readFileSync(`/proc/${quiet}/comm`, 'utf8').trim() === 'sleep' ? true : undefined));
    const sampler = new ProcSampler({ cpuWindowMs: 1_000 });
    sampler.watch('spin', identityOf(spinner)!);
    sampler.watch('idle', identityOf(quiet)!);
    const limits = limitsSchema.parse({ cpu: { max_percent: 10, window: '1s', policy: 'restart' } });
    const monitors = { spin: new LimitsMonitor(limits), idle: new LimitsMonitor(limits) };
    const actions: Record<string, string[]> = { spin: [], idle: [] };
    const ticks = (): number => {
      const rest = readFileSync(`/proc/${spinner}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return Number(rest[11]) + Number(rest[12]);
    };
    let last: ResourceSample[] = [];
    let truth = { ticks: 0, at: 0 };
    for (let tick = 0; tick < 16; tick++) {
      await sleep(100);
      if (tick === 5) truth = { ticks: ticks(), at: performance.now() };
      last = sampler.sample();
      for (const s of last) {
        const decision = monitors[s.worker as 'spin' | 'idle'].observe(s);
        if (decision.action !== undefined) actions[s.worker]!.push(decision.action);
      }
    }
    const kernelPercent = ((ticks() - truth.ticks) / 100 / ((performance.now() - truth.at) / 1000)) * 100;
    const spin = last.find((s) => s.worker === 'spin')!;
    const calm = last.find((s) => s.worker === 'idle')!;
    assert.ok(spin.cpu_window_ms >= 900 && spin.cpu_window_ms <= 1_300, `window ${spin.cpu_window_ms}`);
    assert.ok(Math.abs(spin.cpu_percent - kernelPercent) < Math.max(15, kernelPercent * 0.25), `sampler ${spin.cpu_percent}% vs kernel ${kernelPercent}%`);
    assert.ok(spin.cpu_percent > 10 && spin.cpu_percent > calm.cpu_percent * 3, `spinner ${spin.cpu_percent}%, idle ${calm.cpu_percent}%`);
    // Once when the breach starts; again only if a starved spinner dipped under the limit meanwhile.
    assert.ok(actions.spin!.length >= 1 && actions.spin!.every((a) => a === 'restart'), JSON.stringify(actions));
    assert.deepEqual(actions.idle, [], 'no action for the idle one');
  });

  void it('counts open descriptors exactly', async () => {
    const base = (await children.ready(NODE, [osFixture('fds.mjs'), '0'])).child.pid!;
    const more = (await children.ready(NODE, [osFixture('fds.mjs'), '64'])).child.pid!;
    const sampler = new ProcSampler();
    sampler.watch('base', identityOf(base)!);
    sampler.watch('more', identityOf(more)!);
    const samples = sampler.sample();
    const fds = (w: string): number => samples.find((s) => s.worker === w)!.open_fds;
    assert.ok(fds('base') >= 3);
    assert.equal(fds('more') - fds('base'), 64);
  });

  void it('counts descendants through ppid links, including a child in its own session', async () => {
    const { child, words } = await children.ready(NODE, [osFixture('tree.mjs'), '2']);
    const sampler = new ProcSampler();
    sampler.watch('tree', identityOf(child.pid!)!);
    // 2 sleeps (one setsid), a shell and its sleep.
    // With their RSS: the kernel publishes a task's RSS lazily, so one that has not run since its exec reads 0 pages.
    const sample = await waitFor('4 descendants with their RSS', () => {
      const s = one(sampler, 'tree');
      return s.descendants === 4 && s.rss_bytes > s.root_rss_bytes ? s : undefined;
    });
    assert.ok(sample.threads > sample.root_threads);
    assert.equal(words.length, 4);
  });

  void it('never takes a recycled pid for the worker', async () => {
    const pid = await idle();
    const real = identityOf(pid)!;
    const sampler = new ProcSampler();
    // Same pid, another start time: what a recycled pid looks like from the watcher's side.
    sampler.watch('recycled', { pid, startTimeTicks: real.startTimeTicks - 1 });
    sampler.watch('real', real);
    const samples = sampler.sample();
    assert.deepEqual(samples.map((s) => [s.worker, s.alive]), [['recycled', false], ['real', true]]);
    assert.equal(samples[0]!.rss_bytes, 0);
    process.kill(pid, 'SIGKILL');
    await waitFor('exit', () => !one(sampler, 'real').alive);
  });

  void it('with a cgroup: reads its counters and counts a double-forked daemon as a descendant', { skip: manager === undefined ? support.reason : false }, async () => {
    const g = await manager!.create('sampled');
    groups.push(g);
    const plan = planLaunch({ file: NODE, args: [osFixture('escaper.mjs')], cgroupProcsFiles: g.procsFiles });
    const { child } = await children.ready(plan.file, plan.args);
    const sampler = new ProcSampler();
    sampler.watch('esc', identityOf(child.pid!)!, { cgroup: g });
    const sample = one(sampler, 'esc');
    assert.equal(sample.descendants, 1, 'the daemon was reparented away, its cgroup still holds it');
    if (g.readUsage().memory_bytes !== undefined) assert.ok((sample.cgroup_memory_bytes ?? 0) > 0);
    assert.ok(sample.cpu_time_usec > 0);
    const exited = once(child, 'exit');
    await g.kill();
    await exited;
  });

  void it('start() delivers samples on its timer and close() leaves no timer behind', async () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const sampler = new ProcSampler();
    sampler.watch('w', identityOf(await idle())!);
    const got = await new Promise<ResourceSample[]>((resolve, reject) => sampler.start(20, resolve, reject));
    assert.equal(got[0]?.worker, 'w');
    assert.equal(timers(), before + 1);
    sampler.close();
    assert.equal(timers(), before);
  });

  void it('soak: thousands of passes hold memory flat', async () => {
    const sampler = new ProcSampler({ cpuWindowMs: 50 });
    for (let i = 0; i < 4; i++) sampler.watch(`w${i}`, identityOf(await idle())!);
    for (let i = 0; i < 300; i++) sampler.sample();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 3_000; i++) sampler.sample();
    const grown = process.memoryUsage().heapUsed - before;
    assert.ok(grown < 16 * 2 ** 20, `heap grew ${(grown / 2 ** 20).toFixed(1)} MiB over 3000 passes`);
    sampler.close();
  });
});
