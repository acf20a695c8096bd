// Enforced limits on real processes: a memory hog, a CPU spinner and a worker with many open files
// acted on by policy (restart, graceful_shutdown, immediate_kill, log), on the poll path (cgroups
// off) and the cgroup path (a v1 group per worker here, with a kernel memory limit). Outcomes and
// order only; the liveness bounds are generous and only catch a hang.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { validateConfigText } from '../../src/index.js';
import type { ResourcesSnapshot } from '../../src/limits/resources-watchdog.js';
import { diagnostics, nodeWorker, pluginWorker, throwsWithCode, withMaster, type TestMaster } from '../helpers/master-helpers.js';
import { ownCgroups, readyLine, sleep, until } from './support.js';

after(() => assert.deepEqual(ownCgroups(), [], 'no cgroup of this test process may be left'));

const HOG = '../os/fixtures/hog.mjs';
const MAX_RSS = 150 * 1024 * 1024;

function resources(t: TestMaster, id: string): ResourcesSnapshot {
  return t.master.getWorkerStateWithDiagnostics(id).watchdogs.resources as ResourcesSnapshot;
}

/** The first exit of `id`, once the worker has gone through a limit action. */
function firstExit(t: TestMaster, id: string) {
  return t.events.waitFor(`exit of ${id}`, () => t.events.exits.find((e) => e.worker_id === id), 30_000);
}

for (const cgroups of ['off', 'auto'] as const) {
  void describe(`memory limit (cgroups: ${cgroups})`, () => {
    void it('a hog over max_rss with policy restart is restarted with cause limit and LIMIT_EXCEEDED', () =>
      withMaster(
        async (t) => {
          let causeAtRestart: string | null | undefined;
          t.master.on('restart', (e) => (causeAtRestart = t.master.getWorkerStateWithDiagnostics(e.worker_id).stop_cause));
          t.master.addWorker(nodeWorker(t, 'hog', HOG, ['8', '50'], { limits: { memory: { max_rss: MAX_RSS, policy: 'restart' } }, restart: { backoff: { initial: '300ms', max: '300ms', jitter: 0 } } }));
          await t.master.startWorker('hog');
          const first = diagnostics(t.master, 'hog').pid;
          const enforcement = resources(t, 'hog').enforcement;
          if (cgroups === 'off') {
            assert.equal(diagnostics(t.master, 'hog').details.cgroup, null);
            assert.equal(enforcement?.enforcement, 'poll');
            assert.deepEqual(enforcement?.kernel, {});
          } else {
            assert.match(String(diagnostics(t.master, 'hog').details.cgroup), /^hsu\.m\d+s\d+(n\d+)?\.hog$/);
            assert.equal(enforcement?.enforcement, 'cgroup-v1');
            // The kernel backstop sits 25 % above max_rss; the poller acts first, at max_rss.
            assert.equal(enforcement?.kernel.memory_bytes, Math.floor(MAX_RSS * 1.25));
          }
          assert.deepEqual(enforcement?.polled, ['memory']);
          const restart = await t.events.waitFor('the restart', () => t.events.restarts.find((e) => e.worker_id === 'hog'), 30_000);
          assert.equal(restart.cause, 'limit');
          assert.equal(causeAtRestart, 'limit');
          const exit = await firstExit(t, 'hog');
          assert.equal(exit.exit.error?.code, 'HSU_ERR_LIMIT_EXCEEDED');
          assert.equal(t.master.getWorkerStateWithDiagnostics('hog').last_error?.code, 'HSU_ERR_LIMIT_EXCEEDED');
          assert.equal(t.events.states.find((e) => e.worker_id === 'hog' && e.to === 'stopping')?.cause, 'limit');
          await t.events.state('hog', 'running', 2, 30_000);
          assert.notEqual(diagnostics(t.master, 'hog').pid, first);
        },
        { cgroups },
      ));
  });
}

void describe('memory limit: a hog that outruns the sampling interval', () => {
  void it('killed by the kernel backstop (its cgroup), it is reported as over its limit: cause limit, LIMIT_EXCEEDED', () =>
    withMaster(
      async (t) => {
        // Sampling every 5 s: the kernel limit (max_rss + 25 %) is what stops this hog, before any sample sees it.
        t.master.addWorker(nodeWorker(t, 'burst', HOG, ['400', '300'], { limits: { memory: { max_rss: MAX_RSS, policy: 'restart' } }, restart: { backoff: { initial: '1s', max: '1s', jitter: 0 } } }));
        await t.master.startWorker('burst');
        assert.equal(resources(t, 'burst').enforcement?.enforcement, 'cgroup-v1');
        const group = String(diagnostics(t.master, 'burst').details.cgroup);
        const exit = await firstExit(t, 'burst');
        assert.equal(exit.exit.signal, 'SIGKILL', 'the kernel OOM killer ended it');
        const oomKills = /oom_kill (\d+)/.exec(readFileSync(`/sys/fs/cgroup/memory/hsu/${group}/memory.oom_control`, 'utf8'))?.[1];
        assert.equal(oomKills, '1', 'the group itself counts the OOM kill');
        const restart = await t.events.waitFor('the restart', () => t.events.restarts.find((e) => e.worker_id === 'burst'));
        assert.deepEqual(
          { cause: restart.cause, error: exit.exit.error?.code },
          { cause: 'limit', error: 'HSU_ERR_LIMIT_EXCEEDED' },
          `a kill by the worker's own memory limit must not read as a plain crash: ${JSON.stringify(exit.exit.error)}`,
        );
      },
      { sampleIntervalMs: 5_000 },
    ));
});

void describe('memory limit policies', () => {
  void it('immediate_kill: the hog is killed (SIGKILL, by the kernel limit or the poller)', () =>
    withMaster(async (t) => {
      t.master.addWorker(nodeWorker(t, 'hog', HOG, ['8', '50'], { limits: { memory: { max_rss: MAX_RSS, policy: 'immediate_kill' } }, restart: { policy: 'never' } }));
      await t.master.startWorker('hog');
      assert.equal(resources(t, 'hog').enforcement?.kernel.memory_bytes, MAX_RSS, 'immediate_kill puts the kernel limit at max_rss');
      const exit = await firstExit(t, 'hog');
      assert.equal(exit.exit.signal, 'SIGKILL');
      assert.equal(exit.exit.forced || exit.exit.error?.code === 'HSU_ERR_WORKER_CRASHED' || exit.exit.error?.code === 'HSU_ERR_LIMIT_EXCEEDED', true, JSON.stringify(exit));
      await until('the hog ended for good', () => (['stopped', 'failed'].includes(t.master.getWorkerState('hog')) ? true : undefined));
    }));

  void it('graceful_shutdown: the hog is stopped and stays stopped', () =>
    withMaster(
      async (t) => {
        t.master.addWorker(nodeWorker(t, 'hog', HOG, ['8', '50'], { limits: { memory: { max_rss: MAX_RSS, policy: 'graceful_shutdown' } }, restart: { policy: 'always' } }));
        await t.master.startWorker('hog');
        await t.events.state('hog', 'stopped', 1, 30_000);
        const d = t.master.getWorkerStateWithDiagnostics('hog');
        assert.equal(d.stop_cause, 'limit');
        assert.equal(d.last_error?.code, 'HSU_ERR_LIMIT_EXCEEDED');
        await sleep(500);
        assert.equal(t.master.getWorkerState('hog'), 'stopped', 'restart: always does not bring it back');
        assert.deepEqual(t.events.restarts, []);
      },
      { cgroups: 'off' },
    ));
});

void describe('cpu and open_files limits', () => {
  void it('a CPU spinner over max_percent for the window is restarted (cause limit); an idle worker with the same limit is not', () =>
    withMaster(async (t) => {
      // On a shared, loaded 2-core machine a spinner may get only a third of a core, so the limit is
      // set where a spinner is always over it and an idle process never is.
      const limits = { cpu: { max_percent: 10, window: '2s', policy: 'restart' } };
      t.master.addWorker(nodeWorker(t, 'spin', 'process/spin2.mjs', [], { limits, restart: { backoff: { initial: '1s', max: '1s', jitter: 0 } } }));
      t.master.addWorker(nodeWorker(t, 'idle', '../os/fixtures/idle.mjs', [], { limits }));
      await t.master.startWorker('idle');
      await t.master.startWorker('spin');
      const restart = await t.events.waitFor('the restart', () => t.events.restarts.find((e) => e.worker_id === 'spin'), 30_000);
      assert.equal(restart.cause, 'limit');
      const violation = resources(t, 'spin').last_violation;
      assert.equal(violation?.limit, 'cpu');
      assert.ok((violation?.observed ?? 0) > 10, JSON.stringify(violation));
      assert.equal((await firstExit(t, 'spin')).exit.error?.code, 'HSU_ERR_LIMIT_EXCEEDED');
      // The idle worker was judged over the same window (more than 2 s have passed) and left alone.
      assert.ok((resources(t, 'idle').cpu_percent ?? 100) < 10);
      assert.deepEqual(t.events.restarts.filter((e) => e.worker_id === 'idle'), []);
      assert.deepEqual(t.events.transitions('idle'), ['idle->starting', 'starting->running']);
    }));

  void it('open_files: a worker holding more descriptors than max is restarted (cause limit)', () =>
    withMaster(async (t) => {
      t.master.addWorker(nodeWorker(t, 'fds', 'process/family.mjs', ['300', '0'], { limits: { open_files: { max: 200, policy: 'restart' } }, restart: { backoff: { initial: '1s', max: '1s', jitter: 0 } } }));
      await t.master.startWorker('fds');
      const restart = await t.events.waitFor('the restart', () => t.events.restarts.find((e) => e.worker_id === 'fds'));
      assert.equal(restart.cause, 'limit');
      const violation = resources(t, 'fds').last_violation;
      assert.equal(violation?.limit, 'open_files');
      assert.ok((violation?.observed ?? 0) > 200, JSON.stringify(violation));
    }));

  void it('policy log only logs the breach and keeps the worker running', async () => {
    const lines: { msg?: string; limit?: string; worker?: string }[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg?: string }) });
    await withMaster(
      async (t) => {
        t.master.addWorker(nodeWorker(t, 'fds', 'process/family.mjs', ['50', '0'], { limits: { open_files: { max: 20, policy: 'log' } } }));
        await t.master.startWorker('fds');
        const [pid] = await readyLine(t.events, 'fds');
        await until('the breach seen', () => (resources(t, 'fds').breached.includes('open_files') ? true : undefined));
        await until('the breach logged', () => lines.find((l) => l.limit === 'open_files' && /limit exceeded/.test(l.msg ?? '')));
        await sleep(500);
        const d = diagnostics(t.master, 'fds');
        assert.equal(d.state, 'running');
        assert.equal(d.pid, pid);
        assert.deepEqual(t.events.restarts, []);
        assert.equal(resources(t, 'fds').last_violation?.limit, 'open_files');
        // Reported once when the breach starts, not at every tick.
        assert.equal(lines.filter((l) => l.limit === 'open_files').length, 1);
      },
      { logger },
    );
  });
});

void describe('limits validation', () => {
  void it('limits on an inline module are refused with the reason', () =>
    withMaster(async (t) => {
      const error = throwsWithCode(() => t.master.addWorker(pluginWorker('inline', 'ok.mjs', {}, { limits: { memory: { max_rss: '100MB' } } })), 'HSU_ERR_CONFIG_INVALID');
      assert.match(error.message, /limits are enforced on a process/);
      const result = validateConfigText(`workers:\n  - id: m\n    type: module\n    module: { module_type: plugin, module_path: ./x.mjs }\n    limits: { memory: { max_rss: 100MB } }\n`);
      const issue = result.ok ? undefined : result.issues.find((i) => i.path.startsWith('workers[0].limits'));
      assert.match(issue?.message ?? '', /limits are enforced on a process/);
      assert.equal(issue?.line, 5);
      assert.deepEqual(t.master.listWorkers(), []);
    }));
});
