// restart_schedule: a cron expression (with seconds) restarts a running worker: a new process,
// a restart event with cause 'schedule', outside the restart policy's counts. A stopped worker is
// never started by it; a bad expression is refused at validation.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { validateConfigText } from '../../src/index.js';
import { diagnostics, nodeWorker, throwsWithCode, withMaster } from '../helpers/master-helpers.js';
import { ownCgroups, sleep } from './support.js';

after(() => assert.deepEqual(ownCgroups(), [], 'no cgroup of this test process may be left'));

void describe('restart_schedule', () => {
  void it("'*/2 * * * * *' restarts a running worker with a new pid, cause schedule, not counted against the intensity limit", () =>
    withMaster(async (t) => {
      // One policy restart would already give up (max_restarts: 0); the schedule must not count.
      t.master.addWorker(nodeWorker(t, 'cron', 'forever.mjs', [], { restart_schedule: '*/2 * * * * *', restart: { policy: 'always', intensity: { max_restarts: 0, window: '60s' } } }));
      await t.master.startWorker('cron');
      const pids = [diagnostics(t.master, 'cron').pid];
      for (const nth of [2, 3]) {
        await t.events.state('cron', 'running', nth);
        pids.push(diagnostics(t.master, 'cron').pid);
      }
      assert.equal(new Set(pids).size, 3, `three different processes: ${pids.join(', ')}`);
      const restarts = t.events.restarts.filter((e) => e.worker_id === 'cron');
      assert.deepEqual(
        restarts.map((e) => e.cause),
        ['schedule', 'schedule'],
      );
      const d = t.master.getWorkerStateWithDiagnostics('cron');
      assert.equal(d.state, 'running');
      assert.equal(d.restart_count, 0, 'scheduled restarts are not failures');
      assert.equal(d.last_error, null);
      const stopping = t.events.states.filter((e) => e.worker_id === 'cron' && e.to === 'stopping');
      assert.ok(stopping.every((e) => e.cause === 'schedule'), JSON.stringify(stopping));
      const snapshot = d.watchdogs.schedule as { expression: string; next_run: string | null; last_restart: string | null };
      assert.equal(snapshot.expression, '*/2 * * * * *');
      assert.notEqual(snapshot.last_restart, null);
    }));

  void it('never starts a stopped or never-started worker', () =>
    withMaster(async (t) => {
      t.master.addWorker(nodeWorker(t, 'stopped', 'forever.mjs', [], { restart_schedule: '* * * * * *' }));
      t.master.addWorker(nodeWorker(t, 'idle', 'forever.mjs', [], { restart_schedule: '* * * * * *' }));
      await t.master.startWorker('stopped');
      await t.master.stopWorker('stopped');
      // Long enough for at least two firings of an every-second schedule.
      await sleep(2_500);
      assert.equal(t.master.getWorkerState('stopped'), 'stopped');
      assert.equal(t.master.getWorkerState('idle'), 'idle');
      assert.deepEqual(t.events.transitions('stopped'), ['idle->starting', 'starting->running', 'running->stopping', 'stopping->stopped']);
      assert.deepEqual(t.events.restarts, []);
    }));

  void it('an invalid cron expression is refused at validation, with its place', () =>
    withMaster(async (t) => {
      const result = validateConfigText(`workers:\n  - id: w\n    type: process\n    execution: { executable_path: /bin/true }\n    restart_schedule: "*/2 * * * * * * *"\n`);
      assert.equal(result.ok, false);
      const issue = result.ok ? undefined : result.issues.find((i) => i.path === 'workers[0].restart_schedule');
      assert.match(issue?.message ?? '', /not a cron expression/);
      assert.equal(issue?.line, 5);
      throwsWithCode(() => t.master.addWorker(nodeWorker(t, 'bad', 'forever.mjs', [], { restart_schedule: '61 * * * *' })), 'HSU_ERR_CONFIG_INVALID');
      assert.deepEqual(t.master.listWorkers(), []);
    }));
});
