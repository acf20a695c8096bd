// Process workers under the Master, with real children: spawn, stop outcomes, crash detection and
// restart, crash loops, grandchildren, resource usage, start order and restartWorker.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { LIVENESS_MS, alivePids, diagnostics, nodeWorker, pluginWorker, processesWithMarker, rejectsWithCode, waitForGone, waitForSample, withMaster, type TestMaster } from './helpers/master-helpers.js';

const T = { timeout: 60_000 };

/** Field 5 of /proc/PID/stat: the process group. */
function pgidOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

/** Starts a worker and waits for its 'ready' line (its signal handlers are installed by then). */
async function startReady(t: TestMaster, id: string): Promise<number> {
  await t.master.startWorker(id);
  const pid = t.master.getWorkerStateWithDiagnostics(id).pid as number;
  await t.events.line(id, (line) => line === 'ready');
  assert.ok(t.events.output.some((o) => o.worker_id === id && o.line === 'ready' && o.pid === pid), 'ready came from the current pid');
  return pid;
}

void describe('process worker lifecycle', () => {
  it('spawns into running with a pid in its own process group, and reports it', T, () =>
    withMaster(async (t) => {
      const { master, events, dir } = t;
      master.addWorker(nodeWorker(t, 'svc', 'forever.mjs'));
      const pid = await startReady(t, 'svc');
      assert.deepEqual(alivePids([pid]), [pid]);
      assert.equal(pgidOf(pid), pid);
      const d = diagnostics(master, 'svc');
      assert.equal(d.state, 'running');
      assert.equal(d.type, 'process');
      assert.equal(d.pid, pid);
      assert.equal(d.details.executable_path, process.execPath);
      assert.equal(d.details.executable_exists, true);
      const resources = await waitForSample(master, 'svc');
      assert.ok((resources.rss_bytes ?? 0) > 0, 'rss_bytes of a running process');
      assert.ok((resources.cpu_percent ?? -1) >= 0);
      assert.equal((await master.getWorkerHealth('svc')).status, 'healthy');
      assert.deepEqual(
        events.states.filter((e) => e.worker_id === 'svc').map((e) => [e.to, e.pid]),
        [
          ['starting', null],
          ['running', pid],
        ],
      );
      await master.stopWorker('svc');
      const after = diagnostics(master, 'svc');
      assert.equal(after.state, 'stopped');
      assert.equal(after.pid, null);
      // forever.mjs exits 0 on SIGTERM: a graceful stop.
      assert.deepEqual({ ...after.last_exit, at: undefined }, { requested: true, exit_code: 0, signal: null, forced: false, at: undefined, error: null });
      assert.deepEqual(alivePids([pid]), []);
      // The log file is written asynchronously: wait (bounded) for the line to reach the disk.
      const log = path.join(dir, 'logs', 'svc.out.log');
      await t.events.waitFor('ready in svc.out.log', () => (existsSync(log) && /^ready$/m.test(readFileSync(log, 'utf8')) ? true : undefined), LIVENESS_MS, 20);
    }),
  );

  it('stops with the configured signal and reports it when the child dies of it', T, () =>
    withMaster(async (t) => {
      const { master } = t;
      // crash-after with a long delay has no signal handlers: the stop signal kills it.
      master.addWorker(nodeWorker(t, 'term', 'crash-after.mjs', ['0', '600000']));
      master.addWorker(nodeWorker(t, 'int', 'crash-after.mjs', ['0', '600000'], { stop_signal: 'SIGINT' }));
      await master.start();
      await Promise.all([master.stopWorker('term'), master.stopWorker('int')]);
      assert.deepEqual(
        ['term', 'int'].map((id) => {
          const exit = diagnostics(master, id).last_exit;
          return [exit?.signal, exit?.exit_code, exit?.forced, exit?.requested];
        }),
        [
          ['SIGTERM', null, false, true],
          ['SIGINT', null, false, true],
        ],
      );
      assert.equal(diagnostics(master, 'term').state, 'stopped');
      assert.equal(diagnostics(master, 'term').last_error, null, 'a requested stop is not an error');
    }),
  );

  it('SIGKILLs a child that ignores SIGTERM after stop_timeout and reports forced', T, () =>
    withMaster(async (t) => {
      const { master } = t;
      master.addWorker(nodeWorker(t, 'stubborn', 'no-killable.mjs', [], { stop_timeout: '300ms' }));
      const pid = await startReady(t, 'stubborn');
      await master.stopWorker('stubborn');
      const d = diagnostics(master, 'stubborn');
      assert.equal(d.state, 'stopped');
      assert.equal(d.last_exit?.forced, true);
      assert.equal(d.last_exit?.signal, 'SIGKILL');
      assert.equal(d.last_exit?.requested, true);
      assert.deepEqual(alivePids([pid]), []);
    }),
  );

  it('a forced stop escalates a graceful stop in progress to SIGKILL', T, () =>
    withMaster(async (t) => {
      const { master } = t;
      master.addWorker(nodeWorker(t, 'stubborn', 'no-killable.mjs', [], { stop_timeout: '60s' }));
      const pid = await startReady(t, 'stubborn');
      const graceful = master.stopWorker('stubborn');
      await master.stopWorker('stubborn', { force: true });
      await graceful;
      const exit = diagnostics(master, 'stubborn').last_exit;
      assert.deepEqual([exit?.signal, exit?.forced], ['SIGKILL', true]);
      assert.deepEqual(alivePids([pid]), []);
    }),
  );

  it('a stop during starting resolves only once the child is gone', T, () =>
    withMaster(async (t) => {
      const { master, events } = t;
      for (let i = 0; i < 5; i++) {
        const id = `quick${i}`;
        master.addWorker(nodeWorker(t, id, 'forever.mjs'));
        const starting = master.startWorker(id);
        starting.catch(() => undefined); // asserted below; it rejects while the stop runs
        assert.equal(master.getWorkerState(id), 'starting');
        await master.stopWorker(id);
        await rejectsWithCode(starting, 'HSU_ERR_START_CANCELLED');
        assert.equal(master.getWorkerState(id), 'stopped');
        // No polling: 'stopped' means gone.
        assert.deepEqual(processesWithMarker(t.marker), [], `${id} outlived its stop`);
        assert.deepEqual(events.transitions(id), ['idle->starting', 'starting->stopping', 'stopping->stopped']);
      }
    }),
  );

  it('passes args, environment and working directory; a clean exit under on-failure ends in stopped', T, () =>
    withMaster(async (t) => {
      const { master, events, dir } = t;
      master.addWorker(nodeWorker(t, 'echo', 'env-echo.mjs', ['HSU_GREETING'], { execution: { environment: { HSU_GREETING: 'hello' }, working_directory: dir } }));
      await master.startWorker('echo');
      await events.state('echo', 'stopped');
      const line = events.output.find((o) => o.worker_id === 'echo' && o.stream === 'stdout');
      assert.deepEqual(JSON.parse(line?.line ?? '{}'), { value: 'hello', cwd: dir, args: ['HSU_GREETING'] });
      assert.equal(diagnostics(master, 'echo').last_exit?.exit_code, 0);
      assert.equal(events.restarts.length, 0);
    }),
  );
});

void describe('process crashes', () => {
  it('detects a crash from the exit and restarts with a new pid', T, () =>
    withMaster(async (t) => {
      const { master, events } = t;
      master.addWorker(nodeWorker(t, 'crashy', 'crash-after.mjs', ['3', '300']));
      await master.startWorker('crashy');
      const first = diagnostics(master, 'crashy').pid as number;
      const restarted = await events.state('crashy', 'running', 2);
      assert.ok(restarted.pid !== null && restarted.pid !== first, 'restarted under a new pid');
      assert.deepEqual(events.transitions('crashy').slice(0, 5), ['idle->starting', 'starting->running', 'running->waiting_restart', 'waiting_restart->starting', 'starting->running']);
      const exit = events.exits.find((e) => e.worker_id === 'crashy');
      assert.equal(exit?.pid, first);
      assert.equal(exit?.exit.exit_code, 3);
      assert.equal(exit?.exit.requested, false);
      assert.equal(exit?.exit.error?.code, 'HSU_ERR_WORKER_CRASHED');
      assert.deepEqual(events.restarts[0], { worker_id: 'crashy', cause: 'policy', attempt: 1, delay_ms: 0 });
      const d = diagnostics(master, 'crashy');
      assert.ok(d.restart_count >= 1);
      assert.equal(d.last_error?.code, 'HSU_ERR_WORKER_CRASHED');
      assert.deepEqual(alivePids([first]), []);
    }),
  );

  it('backs off through a crash loop, ends in failed at the intensity limit, and a manual start works', T, () =>
    withMaster(async (t) => {
      const { master, events } = t;
      const restart = { backoff: { initial: '20ms', max: '100ms' }, intensity: { max_restarts: 3, window: '10s' } };
      master.addWorker(nodeWorker(t, 'loop', 'crash-after.mjs', ['1', '50'], { restart }));
      await master.startWorker('loop');
      const failed = await events.state('loop', 'failed');
      assert.equal(failed.error?.code, 'HSU_ERR_WORKER_CRASHED');
      assert.deepEqual(
        events.restarts.map((r) => r.attempt),
        [1, 2, 3],
      );
      const [immediate, second, third] = events.restarts.map((r) => r.delay_ms);
      assert.equal(immediate, 0);
      assert.ok(second !== undefined && second >= 16 && second <= 24, `second delay ${second} is 20 ms ± 20%`);
      assert.ok(third !== undefined && third >= 32 && third <= 48, `third delay ${third} is 40 ms ± 20%`);
      const pids = events.states.filter((e) => e.worker_id === 'loop' && e.to === 'running').map((e) => e.pid);
      assert.equal(new Set(pids).size, 4, 'four instances: the first and three restarts');
      const d = diagnostics(master, 'loop');
      assert.equal(d.state, 'failed');
      assert.equal(d.restart_count, 3);
      assert.equal(d.last_error?.code, 'HSU_ERR_WORKER_CRASHED');
      assert.deepEqual(alivePids(pids.filter((p): p is number => p !== undefined)), []);

      // The operator takes over: a manual start runs a new instance and resets the window.
      await master.startWorker('loop');
      const manual = events.states.filter((e) => e.worker_id === 'loop' && e.to === 'running').at(-1);
      assert.ok(manual !== undefined && manual.pid !== null && !pids.includes(manual.pid));
      await events.waitFor('a restart after the manual start', () => events.restarts[3]);
      assert.deepEqual({ ...events.restarts[3] }, { worker_id: 'loop', cause: 'policy', attempt: 1, delay_ms: 0 });
    }),
  );
});

void describe('restart policy on real exits', () => {
  it('always restarts a clean exit, on-failure stops after it, never gives up on a crash', T, () =>
    withMaster(async (t) => {
      const { master, events } = t;
      master.addWorker(nodeWorker(t, 'always', 'crash-after.mjs', ['0', '100'], { restart: { policy: 'always' } }));
      master.addWorker(nodeWorker(t, 'onfail', 'crash-after.mjs', ['0', '100']));
      master.addWorker(nodeWorker(t, 'never', 'crash-after.mjs', ['1', '100'], { restart: { policy: 'never' } }));
      await master.start();
      await events.state('always', 'running', 2);
      await events.state('onfail', 'stopped');
      await events.state('never', 'failed');
      assert.equal(events.restarts.filter((r) => r.worker_id === 'always')[0]?.cause, 'policy');
      assert.equal(diagnostics(master, 'onfail').last_error, null, 'a clean exit is no error');
      assert.equal(diagnostics(master, 'onfail').last_exit?.exit_code, 0);
      assert.equal(diagnostics(master, 'never').last_error?.code, 'HSU_ERR_WORKER_CRASHED');
      assert.ok(!events.restarts.some((r) => r.worker_id !== 'always'));
    }),
  );

  it('a run longer than reset_after makes every restart immediate again', T, () =>
    withMaster(async (t) => {
      const { master, events } = t;
      // Without the reset the second restart would wait 5 s.
      const restart = { reset_after: '100ms', backoff: { initial: '5s', max: '5s' } };
      master.addWorker(nodeWorker(t, 'flaky', 'crash-after.mjs', ['1', '300'], { restart }));
      await master.startWorker('flaky');
      await events.waitFor('three restarts', () => events.restarts[2]);
      assert.deepEqual(
        events.restarts.slice(0, 3).map((r) => [r.attempt, r.delay_ms]),
        [
          [1, 0],
          [1, 0],
          [1, 0],
        ],
      );
    }),
  );
});

void describe('process trees', () => {
  async function startTree(t: TestMaster): Promise<{ pid: number; grandchildren: number[] }> {
    t.master.addWorker(nodeWorker(t, 'tree', 'grandchildren.mjs'));
    const pid = await startReady(t, 'tree');
    const line = await t.events.line('tree', (l) => l.startsWith('{'));
    const { grandchildren } = JSON.parse(line.line) as { grandchildren: number[] };
    assert.equal(grandchildren.length, 2);
    assert.deepEqual(alivePids(grandchildren), grandchildren);
    assert.equal(processesWithMarker(t.marker).length, 3, 'the worker and both grandchildren carry the marker');
    return { pid, grandchildren };
  }

  it('leaves no grandchild behind after stopWorker, even one in its own session', T, () =>
    withMaster(async (t) => {
      const { pid, grandchildren } = await startTree(t);
      await t.master.stopWorker('tree');
      assert.deepEqual(await waitForGone([pid, ...grandchildren]), []);
      assert.deepEqual(processesWithMarker(t.marker), []);
    }),
  );

  it('leaves no grandchild behind after shutdown', T, () =>
    withMaster(async (t) => {
      const { pid, grandchildren } = await startTree(t);
      await t.master.shutdown();
      assert.deepEqual(await waitForGone([pid, ...grandchildren]), []);
      assert.deepEqual(processesWithMarker(t.marker), []);
    }),
  );
});

void describe('master operations on processes', () => {
  it('start() starts enabled workers in config order and skips enabled: false', T, () =>
    withMaster(async (t) => {
      const { master, events } = t;
      master.addWorker(nodeWorker(t, 'first', 'forever.mjs'));
      master.addWorker(pluginWorker('second', 'ok.mjs'));
      master.addWorker(nodeWorker(t, 'disabled', 'forever.mjs', [], { enabled: false }));
      master.addWorker(nodeWorker(t, 'third', 'forever.mjs'));
      const results = await master.start();
      assert.deepEqual(results, [
        { id: 'first', ok: true },
        { id: 'second', ok: true },
        { id: 'third', ok: true },
      ]);
      assert.deepEqual(
        events.states.filter((e) => e.to === 'starting' || e.to === 'running').map((e) => `${e.worker_id}:${e.to}`),
        ['first:starting', 'first:running', 'second:starting', 'second:running', 'third:starting', 'third:running'],
      );
      assert.equal(master.getWorkerState('disabled'), 'idle');
      assert.equal(diagnostics(master, 'disabled').enabled, false);
      assert.deepEqual(master.listWorkers(), ['first', 'second', 'disabled', 'third']);
      // A disabled worker can still be started by hand.
      await master.startWorker('disabled');
      assert.equal(master.getWorkerState('disabled'), 'running');
    }),
  );

  it('restartWorker gives a new pid, gracefully or forced', T, () =>
    withMaster(async (t) => {
      const { master, events } = t;
      master.addWorker(nodeWorker(t, 'gentle', 'forever.mjs'));
      master.addWorker(nodeWorker(t, 'hard', 'no-killable.mjs', [], { stop_timeout: '60s' }));
      const gentle = await startReady(t, 'gentle');
      const hard = await startReady(t, 'hard');

      await master.restartWorker('gentle');
      const gentleAfter = diagnostics(master, 'gentle');
      assert.equal(gentleAfter.state, 'running');
      assert.ok(gentleAfter.pid !== null && gentleAfter.pid !== gentle);
      assert.deepEqual([gentleAfter.last_exit?.exit_code, gentleAfter.last_exit?.forced], [0, false]);

      // Forced: no 60 s grace period for a child that ignores SIGTERM.
      await master.restartWorker('hard', { force: true });
      const hardAfter = diagnostics(master, 'hard');
      assert.equal(hardAfter.state, 'running');
      assert.ok(hardAfter.pid !== null && hardAfter.pid !== hard);
      assert.deepEqual([hardAfter.last_exit?.signal, hardAfter.last_exit?.forced], ['SIGKILL', true]);
      assert.deepEqual(alivePids([gentle, hard]), []);
      assert.deepEqual(
        events.restarts.map((r) => `${r.worker_id}:${r.cause}`),
        ['gentle:manual', 'hard:manual'],
      );
    }),
  );
});

describe('output floods', () => {
  it('the log file gets every byte while the master log and output events stay within the line budget', T, () =>
    withMaster(async (t) => {
      const { master, events } = t;
      master.addWorker(nodeWorker(t, 'flood', 'flood.mjs', ['30'], { restart: { policy: 'never' } }));
      const started = performance.now();
      await master.startWorker('flood');
      await events.state('flood', 'stopped');
      const seconds = (performance.now() - started) / 1000;
      const file = path.join(t.dir, 'logs', 'flood.out.log');
      // File writes are asynchronous: the last chunks may land just after the exit was seen.
      await events.waitFor('every byte in the log file', () => (statSync(file).size === 30 * 1024 * 1024 ? true : undefined), LIVENESS_MS, 20);
      const republished = events.output.filter((e) => e.worker_id === 'flood').length;
      // 30 MiB is ~315k lines; the budget is a burst of 2000 plus 1000 a second.
      assert.ok(republished <= 2000 + 1000 * seconds + 50, `republished ${republished} lines in ${seconds.toFixed(2)} s`);
      assert.ok(republished >= 1000, `republished ${republished} lines: the budget still lets output through`);
    }),
  );
});
