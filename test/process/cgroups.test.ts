// A cgroup per process worker (v1 on this machine): stop and crash reach a daemon that left the
// process group with setsid and a double fork, the group directory is removed with the worker, and
// with cgroups off the master falls back to process groups and polling.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { ResourcesSnapshot } from '../../src/limits/resources-watchdog.js';
import { alivePids, diagnostics, nodeWorker, waitForGone, withMaster } from '../helpers/master-helpers.js';
import { ownCgroups, pidsWithCmdline, ppidOf, readyLine, until } from './support.js';

after(() => assert.deepEqual(ownCgroups(), [], 'no cgroup of this test process may be left'));

function cgroupLines(pid: number): string {
  return readFileSync(`/proc/${pid}/cgroup`, 'utf8');
}

function sessionOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
}

void describe('cgroup per worker', () => {
  void it('stopping the worker kills a setsid double-forked daemon, which is in its cgroup', () =>
    withMaster(async (t) => {
      t.master.addWorker(nodeWorker(t, 'd', 'process/daemon.mjs'));
      await t.master.startWorker('d');
      const [pid, daemon] = (await readyLine(t.events, 'd')) as [number, number];
      const group = diagnostics(t.master, 'd').details.cgroup as string;
      assert.match(group, /^hsu\.m\d+s\d+(n\d+)?\.d$/);
      // The daemon escaped everything but the cgroup: other session, not our child, same group.
      assert.notEqual(sessionOf(daemon), sessionOf(pid));
      assert.notEqual(ppidOf(daemon), pid);
      assert.ok(cgroupLines(daemon).includes(group), cgroupLines(daemon));
      assert.ok(ownCgroups().some((dir) => dir.endsWith(`/${group}`)));
      await t.master.stopWorker('d');
      assert.deepEqual(await waitForGone([pid, daemon]), []);
    }));

  void it('a worker that crashed first takes its daemon with it (the old documented limit)', () =>
    withMaster(async (t) => {
      t.master.addWorker(nodeWorker(t, 'd', 'process/daemon.mjs', ['crash', '300'], { restart: { policy: 'never' } }));
      await t.master.startWorker('d');
      const [pid, daemon] = (await readyLine(t.events, 'd')) as [number, number];
      const exit = await t.events.waitFor('the crash', () => t.events.exits.find((e) => e.worker_id === 'd'));
      assert.equal(exit.exit.exit_code, 1);
      assert.deepEqual(await waitForGone([pid, daemon]), [], 'the daemon must not outlive the crashed worker');
    }));

  void it('the cgroup directory is gone after removeWorker, and every one after shutdown', () =>
    withMaster(async (t) => {
      t.master.addWorker(nodeWorker(t, 'a', 'forever.mjs'));
      t.master.addWorker(nodeWorker(t, 'b', 'forever.mjs'));
      await t.master.startWorker('a');
      await t.master.startWorker('b');
      const a = diagnostics(t.master, 'a').details.cgroup as string;
      const b = diagnostics(t.master, 'b').details.cgroup as string;
      const dirsOf = (name: string): string[] => ownCgroups().filter((dir) => dir.endsWith(`/${name}`));
      // One directory per v1 controller in use (memory, cpu, pids, freezer, ...).
      assert.ok(dirsOf(a).length >= 2, JSON.stringify(ownCgroups()));
      await t.master.stopWorker('a');
      await t.master.removeWorker('a');
      assert.deepEqual(dirsOf(a), []);
      assert.ok(dirsOf(b).length >= 2, "the sibling's group is untouched");
      assert.equal(t.master.getWorkerState('b'), 'running');
      await t.master.shutdown();
      assert.deepEqual(ownCgroups(), []);
      for (const dir of dirsOf(b)) assert.equal(existsSync(dir), false);
    }));
});

void describe('cgroups: v2 on this hybrid host (the unified tree, no controllers)', () => {
  void it('kill still reaches the daemon through the v2 group; limits are polled and the reason says why', () =>
    withMaster(
      async (t) => {
        t.master.addWorker(nodeWorker(t, 'd', 'process/daemon.mjs', [], { limits: { memory: { max_rss: '4GB', policy: 'restart' } } }));
        await t.master.startWorker('d');
        const [pid, daemon] = (await readyLine(t.events, 'd')) as [number, number];
        const group = diagnostics(t.master, 'd').details.cgroup as string;
        assert.ok(cgroupLines(daemon).includes(`0::/hsu/${group}`), cgroupLines(daemon));
        const resources = t.master.getWorkerStateWithDiagnostics('d').watchdogs.resources as ResourcesSnapshot;
        assert.equal(resources.enforcement?.enforcement, 'cgroup-v2');
        assert.deepEqual(resources.enforcement?.kernel, {}, 'no memory controller in this tree: nothing is claimed for the kernel');
        assert.match(resources.enforcement?.reason ?? '', /controller missing for memory_bytes, polled instead/);
        await t.master.stopWorker('d');
        assert.deepEqual(await waitForGone([pid, daemon]), []);
      },
      { cgroups: 'v2' },
    ));
});

void describe('a cgroup directory that cannot be created', () => {
  // In the unified tree, cgroup.max.descendants 0 on the hsu parent makes every mkdir below it fail
  // (EAGAIN) while the parent itself stays usable: a real creation failure, and only for masters
  // that chose v2 (this file's tests run one after another, so the v2 test above is not affected).
  const parent = '/sys/fs/cgroup/unified/hsu';

  void it('the worker still starts, on process groups and polling, with the reason; a sibling in its group keeps its pid', async () => {
    const made = !existsSync(parent);
    if (made) mkdirSync(parent);
    try {
      await withMaster(
        async (t) => {
          t.master.addWorker(nodeWorker(t, 'sibling', '../os/fixtures/idle.mjs'));
          await t.master.startWorker('sibling');
          const sibling = diagnostics(t.master, 'sibling');
          assert.notEqual(sibling.details.cgroup, null);
          writeFileSync(path.join(parent, 'cgroup.max.descendants'), '0');
          t.master.addWorker(nodeWorker(t, 'w', 'process/family.mjs', ['0', '1', `1000.${process.pid}9`], { limits: { memory: { max_rss: '4GB', policy: 'restart' } } }));
          await t.master.startWorker('w');
          const d = diagnostics(t.master, 'w');
          assert.equal(d.state, 'running');
          assert.equal(d.details.cgroup, null);
          const resources = t.master.getWorkerStateWithDiagnostics('w').watchdogs.resources as ResourcesSnapshot;
          assert.equal(resources.enforcement?.enforcement, 'poll');
          assert.match(resources.enforcement?.reason ?? '', /falling back to polling/);
          const [pid] = (await readyLine(t.events, 'w')) as [number];
          const family = pidsWithCmdline(`sleep 1000.${process.pid}9`);
          await t.master.stopWorker('w');
          assert.deepEqual(await waitForGone([pid, ...family]), [], 'process groups still end the family');
          assert.equal(diagnostics(t.master, 'sibling').pid, sibling.pid);
          assert.equal(diagnostics(t.master, 'sibling').details.cgroup, sibling.details.cgroup);
          writeFileSync(path.join(parent, 'cgroup.max.descendants'), 'max');
        },
        { cgroups: 'v2' },
      );
    } finally {
      if (existsSync(parent)) writeFileSync(path.join(parent, 'cgroup.max.descendants'), 'max');
      if (made && existsSync(parent)) {
        try {
          rmdirSync(parent);
        } catch {
          // another master's groups are in it
        }
      }
    }
  });
});

void describe('cgroups: off', () => {
  void it('falls back to process groups: details.cgroup null, enforcement poll, the family still ends with the worker', () =>
    withMaster(
      async (t) => {
        const tag = `1000.${process.pid}7`;
        t.master.addWorker(nodeWorker(t, 'f', 'process/family.mjs', ['0', '2', tag], { limits: { memory: { max_rss: '4GB', policy: 'restart' } } }));
        await t.master.startWorker('f');
        const [pid] = (await readyLine(t.events, 'f')) as [number];
        const d = diagnostics(t.master, 'f');
        assert.equal(d.details.cgroup, null);
        assert.equal(d.details.pgid, pid);
        const resources = t.master.getWorkerStateWithDiagnostics('f').watchdogs.resources as ResourcesSnapshot;
        assert.equal(resources.enforcement?.enforcement, 'poll');
        assert.match(resources.enforcement?.reason ?? '', /cgroups are off/);
        assert.ok(!cgroupLines(pid).includes('hsu.'), 'not in any hsu cgroup');
        const family = pidsWithCmdline(`sleep ${tag}`);
        assert.equal(family.length, 4);
        await t.master.stopWorker('f');
        assert.deepEqual(await waitForGone([pid, ...family]), []);
        assert.deepEqual(alivePids(family), []);
        await until('no group was made', () => (ownCgroups().length === 0 ? true : undefined));
      },
      { cgroups: 'off' },
    ));
});
