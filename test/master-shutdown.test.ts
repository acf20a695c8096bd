// master.shutdown(): reverse order, a deadline that forces what will not stop, nothing left in
// /proc afterwards, idempotence, and a closed door for new work.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { alivePids, diagnostics, nodeWorker, pluginWorker, processesWithMarker, rejectsWithCode, throwsWithCode, waitForGone, withMaster } from './helpers/master-helpers.js';

const T = { timeout: 60_000 };

void describe('shutdown', () => {
  it('stops workers one by one in reverse config order', T, () =>
    withMaster(async (t) => {
      const { master, events } = t;
      master.addWorker(nodeWorker(t, 'a', 'forever.mjs'));
      master.addWorker(pluginWorker('b', 'ok.mjs'));
      master.addWorker(nodeWorker(t, 'c', 'forever.mjs'));
      master.addWorker(pluginWorker('d', 'ok.mjs', {}, { enabled: false })); // never started: nothing to stop
      await master.start();
      await events.line('c', (l) => l === 'ready');
      await events.line('a', (l) => l === 'ready');
      const from = events.states.length;
      await master.shutdown();
      assert.deepEqual(
        events.states.slice(from).map((e) => `${e.worker_id}:${e.to}`),
        ['c:stopping', 'c:stopped', 'b:stopping', 'b:stopped', 'a:stopping', 'a:stopped'],
      );
      assert.deepEqual(
        master.listWorkers().map((id) => master.getWorkerState(id)),
        ['stopped', 'stopped', 'stopped', 'idle'],
      );
      assert.equal(diagnostics(master, 'a').last_exit?.forced, false, 'a graceful shutdown');
    }),
  );

  it('is bounded by shutdownTimeoutMs: what ignores its stop is forced when the deadline passes', T, () =>
    withMaster(
      async (t) => {
        const { master, events } = t;
        // Both would take a minute to stop on their own terms.
        master.addWorker(nodeWorker(t, 'stubborn', 'no-killable.mjs', [], { stop_timeout: '60s' }));
        master.addWorker(pluginWorker('hanging', 'hang-stop.mjs', {}, { stop_timeout: '60s' }));
        master.addWorker(nodeWorker(t, 'polite', 'forever.mjs'));
        await master.start();
        await events.line('stubborn', (l) => l === 'ready');
        await events.line('polite', (l) => l === 'ready');
        const stubbornPid = diagnostics(master, 'stubborn').pid as number;
        const began = Date.now();
        await master.shutdown();
        // Liveness only: far below the 60 s the workers asked for.
        assert.ok(Date.now() - began < 30_000, 'shutdown waited for the workers instead of its own deadline');
        for (const id of ['stubborn', 'hanging', 'polite']) assert.equal(master.getWorkerState(id), 'stopped', id);
        const stubborn = diagnostics(master, 'stubborn').last_exit;
        assert.deepEqual([stubborn?.forced, stubborn?.signal], [true, 'SIGKILL']);
        assert.equal(diagnostics(master, 'hanging').last_exit?.forced, true);
        assert.equal(diagnostics(master, 'polite').last_exit?.forced, false, 'stopped before the deadline');
        assert.deepEqual(alivePids([stubbornPid]), []);
      },
      { shutdownTimeoutMs: 500 },
    ),
  );

  it('leaves no process of any worker behind, whatever state each worker was in', T, () =>
    withMaster(async (t) => {
      const { master, events } = t;
      master.addWorker(nodeWorker(t, 'tree', 'grandchildren.mjs'));
      master.addWorker(nodeWorker(t, 'stubborn', 'no-killable.mjs', [], { stop_timeout: '200ms' }));
      master.addWorker(nodeWorker(t, 'crashing', 'crash-after.mjs', ['1', '100'], { restart: { backoff: { initial: '100ms' } } }));
      master.addWorker(nodeWorker(t, 'idle', 'forever.mjs'));
      await master.startWorker('tree');
      await master.startWorker('stubborn');
      await master.startWorker('crashing');
      const tree = await events.line('tree', (l) => l.startsWith('{'));
      const { grandchildren } = JSON.parse(tree.line) as { grandchildren: number[] };
      await events.line('stubborn', (l) => l === 'ready');
      await events.state('crashing', 'waiting_restart');
      const pids = events.states.flatMap((e) => (e.pid === null ? [] : [e.pid]));
      assert.ok(processesWithMarker(t.marker).length >= 4);
      await master.shutdown();
      assert.deepEqual(alivePids(pids), [], 'a worker process outlived shutdown()');
      // Grandchildren are SIGKILLed when their worker exits; give the kernel a moment to finish them.
      assert.deepEqual(await waitForGone([...pids, ...grandchildren]), []);
      assert.deepEqual(processesWithMarker(t.marker), []);
      assert.equal(master.getWorkerState('idle'), 'idle');
    }),
  );

  it('right after start: workers still being launched are gone when shutdown() resolves', T, () =>
    withMaster(async (t) => {
      const { master } = t;
      for (const id of ['p1', 'p2', 'p3']) {
        master.addWorker(nodeWorker(t, id, 'forever.mjs'));
        // Each start is cut short by the shutdown and rejects with HSU_ERR_START_CANCELLED.
        master.startWorker(id).catch(() => undefined);
      }
      await master.shutdown();
      assert.deepEqual(processesWithMarker(t.marker), []);
      assert.deepEqual(
        ['p1', 'p2', 'p3'].map((id) => master.getWorkerState(id)),
        ['stopped', 'stopped', 'stopped'],
      );
    }),
  );

  it('a forced shutdown does not wait out the stop timeout of a start that hangs', T, () =>
    withMaster(async ({ master }) => {
      // stop_timeout far beyond the test's own timeout: only the forced path can finish in time.
      master.addWorker(pluginWorker('stuck', 'hang-start.mjs', {}, { stop_timeout: '10m' }));
      const starting = master.startWorker('stuck');
      starting.catch(() => undefined); // cancelled by the stop below
      const stopping = master.stopWorker('stuck');
      await master.shutdown({ force: true });
      await stopping;
      assert.equal(master.getWorkerState('stuck'), 'stopped');
      await rejectsWithCode(starting, 'HSU_ERR_START_CANCELLED');
    }),
  );

  it('shutdown({ force: true }) forces a shutdown already under way, without restarts', T, () =>
    withMaster(
      async (t) => {
        const { master, events } = t;
        master.addWorker(nodeWorker(t, 'stubborn', 'no-killable.mjs', [], { stop_timeout: '60s' }));
        master.addWorker(pluginWorker('hanging', 'hang-stop.mjs', {}, { stop_timeout: '60s' }));
        await master.start();
        await events.line('stubborn', (l) => l === 'ready');
        const graceful = master.shutdown();
        await events.state('hanging', 'stopping');
        assert.equal(master.getWorkerState('stubborn'), 'running', 'reverse order: stubborn waits its turn');
        const forced = master.shutdown({ force: true });
        assert.equal(forced, graceful, 'the same shutdown, now forced');
        await forced;
        assert.deepEqual(
          ['stubborn', 'hanging'].map((id) => [master.getWorkerState(id), diagnostics(master, id).last_exit?.forced]),
          [
            ['stopped', true],
            ['stopped', true],
          ],
        );
        assert.equal(events.restarts.length, 0);
        assert.deepEqual(processesWithMarker(t.marker), []);
      },
      { shutdownTimeoutMs: 60_000 },
    ),
  );

  it('a restartWorker() half-way through does not bring its worker back after shutdown', T, () =>
    withMaster(async (t) => {
      const { master } = t;
      master.addWorker(nodeWorker(t, 'proc', 'forever.mjs'));
      master.addWorker(pluginWorker('mod', 'ok.mjs'));
      await master.start();
      await t.events.line('proc', (l) => l === 'ready');
      const restarts = ['proc', 'mod'].map((id) => rejectsWithCode(master.restartWorker(id), 'HSU_ERR_MASTER_SHUT_DOWN'));
      await master.shutdown();
      await Promise.all(restarts);
      assert.deepEqual(
        ['proc', 'mod'].map((id) => master.getWorkerState(id)),
        ['stopped', 'stopped'],
      );
      assert.deepEqual(processesWithMarker(t.marker), []);
    }),
  );

  it('cancels a pending restart and does not relaunch afterwards', T, () =>
    withMaster(async (t) => {
      const { master, events } = t;
      const restart = { backoff: { initial: '200ms', max: '200ms', jitter: 0 } };
      master.addWorker(nodeWorker(t, 'crashing', 'crash-after.mjs', ['1', '50'], { restart }));
      await master.startWorker('crashing');
      await events.state('crashing', 'waiting_restart', 2); // the second restart waits 200 ms
      await master.shutdown();
      assert.equal(master.getWorkerState('crashing'), 'stopped');
      const transitions = events.transitions('crashing').length;
      await sleep(500); // a negative check: the cancelled backoff timer must not fire
      assert.equal(events.transitions('crashing').length, transitions);
      assert.deepEqual(processesWithMarker(t.marker), []);
    }),
  );

  it('arriving during master.start() stops what started and launches nothing more', T, () =>
    withMaster(async (t) => {
      const { master, events } = t;
      master.addWorker(nodeWorker(t, 'early', 'forever.mjs'));
      master.addWorker(pluginWorker('slow', 'slow-start.mjs', { delay_ms: 60_000 }));
      master.addWorker(nodeWorker(t, 'late', 'forever.mjs'));
      const starting = master.start();
      await events.state('slow', 'starting');
      await master.shutdown();
      const results = await starting;
      assert.deepEqual(
        results.map((r) => [r.id, r.ok, r.error?.code]),
        [
          ['early', true, undefined],
          ['slow', false, 'HSU_ERR_START_CANCELLED'],
        ],
      );
      assert.deepEqual(
        ['early', 'slow', 'late'].map((id) => master.getWorkerState(id)),
        ['stopped', 'stopped', 'idle'],
      );
    }),
  );

  it('is idempotent, and afterwards refuses new work with HSU_ERR_MASTER_SHUT_DOWN', T, () =>
    withMaster(async (t) => {
      const { master, events } = t;
      master.addWorker(nodeWorker(t, 'svc', 'forever.mjs'));
      master.addWorker(pluginWorker('mod', 'ok.mjs'));
      await master.start();
      const first = master.shutdown();
      const second = master.shutdown();
      assert.equal(first, second, 'a second call joins the shutdown in progress');
      await Promise.all([first, second]);
      await master.shutdown();
      assert.equal(events.states.filter((e) => e.to === 'stopped').length, 2, 'each worker stopped exactly once');

      throwsWithCode(() => master.addWorker(pluginWorker('new', 'ok.mjs')), 'HSU_ERR_MASTER_SHUT_DOWN');
      throwsWithCode(() => void master.startWorker('svc'), 'HSU_ERR_MASTER_SHUT_DOWN');
      throwsWithCode(() => void master.restartWorker('mod'), 'HSU_ERR_MASTER_SHUT_DOWN');
      await rejectsWithCode(master.start(), 'HSU_ERR_MASTER_SHUT_DOWN');
      // Reading state still works after shutdown.
      assert.deepEqual(master.listWorkers(), ['svc', 'mod']);
      assert.equal(diagnostics(master, 'svc').state, 'stopped');
      assert.deepEqual(await waitForGone(events.states.flatMap((e) => (e.pid === null ? [] : [e.pid]))), []);
    }),
  );
});
