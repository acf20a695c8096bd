// Resource usage of process workers in diagnostics (watchdogs.resources): RSS, CPU %, open fds,
// threads and descendants (a setsid'd grandchild included), read from /proc in one pass per tick
// for every worker. Both with a cgroup per worker (the default here) and without.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { diagnostics, nodeWorker, waitForSample, withMaster, type TestMaster } from '../helpers/master-helpers.js';
import type { ResourcesSnapshot } from '../../src/limits/resources-watchdog.js';
import { ownCgroups, pidsWithCmdline, readyLine, sleep, until } from './support.js';

after(() => assert.deepEqual(ownCgroups(), [], 'no cgroup of this test process may be left'));

function resources(t: TestMaster, id: string): ResourcesSnapshot {
  return t.master.getWorkerStateWithDiagnostics(id).watchdogs.resources as ResourcesSnapshot;
}

function sessionOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
}

for (const cgroups of ['auto', 'off'] as const) {
  void describe(`resource usage (cgroups: ${cgroups})`, () => {
    void it('rss, cpu_percent, open_fds, threads and descendants of a worker with a family', () =>
      withMaster(
        async (t) => {
          const tag = `1000.${process.pid}${cgroups === 'off' ? 1 : 2}`;
          // Same program twice: one opens 25 more files; both start 2 children and a setsid'd grandchild.
          t.master.addWorker(nodeWorker(t, 'files', 'process/family.mjs', ['25', '2', tag]));
          t.master.addWorker(nodeWorker(t, 'plain', 'process/family.mjs', ['0', '2', tag]));
          await Promise.all([t.master.startWorker('files'), t.master.startWorker('plain')]);
          const [pid] = await readyLine(t.events, 'files');
          await readyLine(t.events, 'plain');
          assert.equal(pidsWithCmdline(`sleep ${tag}`).length, 8, 'each worker: 2 sleeps, the sh (its -c script names the tag) and its setsid sleep');
          // The setsid'd grandchild is in another session, out of the worker's process group.
          const setsid = pidsWithCmdline(`sleep ${tag}`).find((p) => sessionOf(p) !== sessionOf(pid as number) && sessionOf(p) === p);
          assert.ok(setsid !== undefined, 'one sleep per worker is in a session of its own');
          // 2 sleeps + sh + the setsid'd sleep, counted once the sampler has seen them all.
          const files = await until('descendants of files', () => (resources(t, 'files').descendants === 4 ? resources(t, 'files') : undefined));
          const plain = await until('descendants of plain', () => (resources(t, 'plain').descendants === 4 ? resources(t, 'plain') : undefined));
          // Node itself opens a descriptor or two lazily (epoll, pipes): the 25 files dominate the difference.
          const extra = (files.open_fds ?? 0) - (plain.open_fds ?? 0);
          assert.ok(extra >= 22 && extra <= 28, `open_fds ${files.open_fds} vs ${plain.open_fds}`);
          assert.ok((files.rss_bytes ?? 0) > 20 * 1024 * 1024, `rss of a node process and its children: ${files.rss_bytes}`);
          // Node runs several threads; each of the 4 descendants has at least one.
          assert.ok((files.threads ?? 0) >= 4 + 2, `threads ${files.threads}`);
          assert.equal(typeof files.cpu_percent, 'number');
          assert.ok((files.cpu_percent ?? -1) >= 0);
          assert.equal(diagnostics(t.master, 'files').details.cgroup === null, cgroups === 'off');
        },
        { cgroups },
      ));

    void it('a spinning worker shows CPU, an idle one next to it does not', () =>
      withMaster(
        async (t) => {
          t.master.addWorker(nodeWorker(t, 'spin', '../os/fixtures/spin.mjs'));
          t.master.addWorker(nodeWorker(t, 'idle', '../os/fixtures/idle.mjs'));
          await t.master.startWorker('spin');
          await t.master.startWorker('idle');
          await waitForSample(t.master, 'idle');
          // The machine may be shared and loaded: the spinner only has to show clearly more than nothing,
          // and more than the idle worker once its start-up burst is averaged away.
          const [spin, idle] = await until('the spinner above 10 % of a core and above the idle worker', () => {
            const s = resources(t, 'spin');
            const i = resources(t, 'idle');
            return (s.cpu_percent ?? 0) > 10 && (i.cpu_percent ?? 100) < (s.cpu_percent ?? 0) ? [s, i] : undefined;
          });
          assert.ok((idle.cpu_percent ?? -1) >= 0 && (spin.cpu_percent ?? 0) > (idle.cpu_percent ?? 0));
        },
        { cgroups },
      ));
  });
}

void describe('one sampling pass for all workers', () => {
  void it('every worker is sampled in the same tick: the sample times move together', () =>
    withMaster(async (t) => {
      for (const id of ['a', 'b', 'c']) t.master.addWorker(nodeWorker(t, id, '../os/fixtures/idle.mjs'));
      await t.master.startWorker('a');
      await sleep(130); // started at different times: separate timers per worker would tick apart
      await t.master.startWorker('b');
      await sleep(70);
      await t.master.startWorker('c');
      for (const id of ['a', 'b', 'c']) await waitForSample(t.master, id);
      const seen = new Set<string>();
      for (let i = 0; i < 5; i++) {
        await until('all three sampled in the same pass', () => {
          const times = ['a', 'b', 'c'].map((id) => resources(t, id).sampled_at);
          return times.every((time) => time === times[0]) && !seen.has(String(times[0])) ? (seen.add(String(times[0])), true) : undefined;
        }, 5_000, 10);
      }
      assert.equal(seen.size, 5, 'five successive passes, each covering every worker');
      // The sampler stops with the last watched worker: nothing is sampled after the workers stop.
      await Promise.all(['a', 'b', 'c'].map((id) => t.master.stopWorker(id)));
      const at = resources(t, 'a').sampled_at;
      await sleep(300);
      assert.equal(resources(t, 'a').sampled_at, at);
      assert.ok(path.isAbsolute(t.dir));
    }));
});
