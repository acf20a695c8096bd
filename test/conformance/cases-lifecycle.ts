// Lifecycle, health, crash and restart, calls to a worker that is not running: identical everywhere.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type conformance from '../fixtures/modules/conformance.js';
import { assertSiblingUnaffected, rejectsWithCode, settlesWithin, waitFor, type Deployment, type Suite } from './harness.js';

/** The diagnostics keys of every worker, whatever runs it; only `details` is runtime-specific. */
const DIAGNOSTIC_KEYS = [
  'consecutive_restarts',
  'details',
  'enabled',
  'endpoint',
  'health',
  'history',
  'id',
  'last_error',
  'last_exit',
  'pid',
  'restart_count',
  'runtime',
  'started_at',
  'state',
  'stop_cause',
  'type',
  'uptime_ms',
  'watchdogs',
];

const EXPECTED: Record<Deployment, { type: string; runtime: string; hasPid: boolean }> = {
  inline: { type: 'module', runtime: 'inline', hasPid: false },
  thread: { type: 'module', runtime: 'thread', hasPid: false },
  process: { type: 'process', runtime: 'host', hasPid: true },
};

export function lifecycleCases(s: Suite): void {
  const expected = EXPECTED[s.deployment];

  void it('start -> running and stop -> stopped, with the same events and diagnostics shape', async () => {
    const id = await s.start('life');
    const running = s.diagnostics(id);
    assert.deepEqual(Object.keys(running).sort(), DIAGNOSTIC_KEYS);
    assert.equal(running.state, 'running');
    assert.equal(running.type, expected.type);
    assert.equal(running.runtime, expected.runtime);
    assert.equal(typeof running.pid, expected.hasPid ? 'number' : 'object');
    assert.equal(typeof running.started_at, 'string');
    assert.equal(typeof running.uptime_ms, 'number');
    assert.equal(running.restart_count, 0);
    assert.equal(running.last_error, null);
    assert.equal(running.last_exit, null);
    // Facts every runtime reports in `details`, beside its own.
    assert.deepEqual(running.details.module, { name: 'conformance', version: '1.0.0' });
    assert.ok((running.details.actions as string[]).includes('echo'));
    assert.equal(typeof running.details.load_time, 'string');

    await s.master.stopWorker(id);
    assert.equal(s.master.getWorkerState(id), 'stopped');
    const stopped = s.diagnostics(id);
    assert.deepEqual(Object.keys(stopped).sort(), DIAGNOSTIC_KEYS);
    assert.equal(stopped.pid, null);
    assert.equal(stopped.uptime_ms, null);
    assert.equal(stopped.endpoint, null);
    assert.equal(stopped.last_error, null);
    assert.deepEqual(
      { requested: stopped.last_exit?.requested, forced: stopped.last_exit?.forced, error: stopped.last_exit?.error },
      { requested: true, forced: false, error: null },
    );
    const moves = s.states.filter((e) => e.worker_id === id).map((e) => `${e.from}->${e.to}`);
    assert.deepEqual(moves, ['idle->starting', 'starting->running', 'running->stopping', 'stopping->stopped']);
    assert.deepEqual(stopped.history.map((h) => `${h.from}->${h.to}`), moves);
    const exits = s.exits.filter((e) => e.worker_id === id);
    assert.equal(exits.length, 1);
    assert.equal(exits[0]?.exit.requested, true);
    assert.equal(exits[0]?.exit.error, null);

    // A manual restart brings up a new instance of the same module.
    await s.master.startWorker(id);
    assert.deepEqual(await s.master.call(id, 'echo', { text: 'again', n: 2 }), { text: 'again', doubled: 4 });
    await s.master.stopWorker(id);
  });

  void it('health: what isHealthy() answers is what getWorkerHealth reports', async () => {
    const id = await s.start('health');
    const client = s.master.client<typeof conformance>(id);
    assert.equal((await s.master.getWorkerHealth(id)).status, 'healthy');
    assert.equal(await client.setHealthy(false), false);
    const unhealthy = await s.master.getWorkerHealth(id);
    assert.equal(unhealthy.status, 'unhealthy');
    assert.equal(s.diagnostics(id).health.status, 'unhealthy');
    // Without a periodic health_check, an unhealthy answer is reported, not acted upon.
    assert.equal(s.master.getWorkerState(id), 'running');
    await client.setHealthy(true);
    assert.equal((await s.master.getWorkerHealth(id)).status, 'healthy');
    await s.master.stopWorker(id);
    const stopped = await s.master.getWorkerHealth(id);
    assert.equal(stopped.status, 'unhealthy');
    assert.match(stopped.reason ?? '', /stopped/);
  });

  void it('crash by ctx.fail(): restarted by policy, a new instance answers, the sibling is untouched', async () => {
    const id = await s.start('fatal');
    const client = s.master.client<typeof conformance>(id);
    const before = await client.whoami();
    assert.equal(await client.fatal('fatal on purpose'), 'scheduled');
    const d = await s.restarted(id);
    assert.equal(d.last_error?.code, 'HSU_ERR_MODULE_FATAL');
    assert.match(d.last_error?.message ?? '', /fatal on purpose/);
    assert.equal(d.last_exit?.requested, false);
    const after = await client.whoami();
    assert.notEqual(after.token, before.token, 'a new module instance must answer after the restart');
    if (s.deployment === 'process') assert.notEqual(after.pid, before.pid, 'a new host process must run the module');
    assert.ok(s.states.some((e) => e.worker_id === id && e.from === 'running' && e.to === 'waiting_restart'));
    assert.ok(s.restarts.some((e) => e.worker_id === id && e.cause === 'policy'));
    await assertSiblingUnaffected(s);
    await s.master.stopWorker(id);
  });

  void it('a call to a worker that is idle, stopped, restarting or failed fails fast with CALL_NOT_RUNNING', async () => {
    const notRunning = async (id: string, state: string): Promise<void> => {
      const call = s.master.call(id, 'echo', { text: 'x', n: 1 });
      await settlesWithin(`call while ${state}`, call);
      const error = await rejectsWithCode(call, 'HSU_ERR_CALL_NOT_RUNNING');
      assert.equal(error.context?.state, state);
    };

    const idle = s.add('not-running');
    await notRunning(idle, 'idle');
    await s.master.startWorker(idle);
    await s.master.stopWorker(idle);
    await notRunning(idle, 'stopped');

    // The first restart is immediate; the second waits out a long backoff, the window we call into.
    const restarting = await s.start('restarting', { restart: { policy: 'on-failure', backoff: { initial: '60s', max: '60s', jitter: 0 } } });
    await s.master.call(restarting, 'fatal', 'first crash');
    await s.restarted(restarting, 1);
    await s.master.call(restarting, 'fatal', 'second crash');
    await waitFor('restarting to wait out its backoff', () => s.master.getWorkerState(restarting) === 'waiting_restart');
    await notRunning(restarting, 'waiting_restart');
    await s.master.stopWorker(restarting);
    assert.equal(s.master.getWorkerState(restarting), 'stopped');

    const failed = await s.start('failed', { restart: { policy: 'never' } });
    await s.master.call(failed, 'fatal', 'no second chance');
    await waitFor('the worker to fail for good', () => s.master.getWorkerState(failed) === 'failed');
    assert.equal(s.diagnostics(failed).last_error?.code, 'HSU_ERR_MODULE_FATAL');
    await notRunning(failed, 'failed');
  });

  // Inline: in-process code cannot be pre-empted, so the fixture's action honours call.signal, which
  // the driver aborts with CALL_INTERRUPTED when the instance ends (docs/isolation.md).
  void it('a call in flight when the worker crashes or stops is rejected with CALL_INTERRUPTED', async () => {
    const id = await s.start('in-flight');
    const crashed = s.master.call(id, 'slow', { ms: 60_000 });
    crashed.catch(() => undefined); // observed below; it may reject before we get there
    await s.master.call(id, 'fatal', 'crash under a call');
    await settlesWithin('the call in flight at a crash', crashed);
    await rejectsWithCode(crashed, 'HSU_ERR_CALL_INTERRUPTED');
    await s.restarted(id);
    const stopped = s.master.call(id, 'slow', { ms: 60_000 });
    stopped.catch(() => undefined);
    await s.master.call(id, 'echo', { text: 'the slow call has arrived', n: 1 });
    await s.master.stopWorker(id);
    await settlesWithin('the call in flight at a stop', stopped);
    await rejectsWithCode(stopped, 'HSU_ERR_CALL_INTERRUPTED');
  });
}
