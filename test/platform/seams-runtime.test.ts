// The runtime seam: a kind registered with master.registerRuntime takes configs a built-in would
// also match (here by id prefix) and runs through the same controller: the same states, events,
// restart policy and diagnostics, with `runtime` naming its kind.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkerConfigInput } from '../../src/index.js';
import { diagnostics, throwsWithCode, withMaster } from '../helpers/master-helpers.js';
import { memoryRuntime, memoryWorker } from './memory-runtime.js';

const T = { timeout: 30_000 };

void describe('a registered runtime kind', () => {
  it('claims configs the built-in process runtime would run, and runs them through the one controller', T, () =>
    withMaster(async ({ master, events }) => {
      const { definition, created } = memoryRuntime('mem-');
      master.registerRuntime(definition);
      const added: { worker_id: string; runtime: string }[] = [];
      master.on('added', (e) => added.push(e));
      master.addWorker(memoryWorker('mem-a', 'ok', { restart: { policy: 'on-failure', backoff: { initial: '10ms', max: '20ms' } } }) as WorkerConfigInput);
      // The same shape without the prefix stays with the built-in kind.
      master.addWorker(memoryWorker('plain', 'ok') as WorkerConfigInput);
      assert.equal(diagnostics(master, 'mem-a').runtime, 'memory');
      assert.equal(diagnostics(master, 'mem-a').details.kind, 'memory');
      assert.equal(diagnostics(master, 'plain').runtime, 'process');
      assert.deepEqual([...created.keys()], ['mem-a']);

      await master.startWorker('mem-a');
      assert.deepEqual(await master.call('mem-a', 'echo', 'x'), { instance: 1, input: 'x' });
      const runtime = created.get('mem-a');
      assert.ok(runtime !== undefined);

      // A crash goes through the restart policy like any runtime's.
      runtime.current.crash('the memory instance broke');
      await events.state('mem-a', 'running', 2);
      assert.ok(events.restarts.some((r) => r.worker_id === 'mem-a' && r.cause === 'policy'));
      assert.equal(diagnostics(master, 'mem-a').last_error?.code, 'HSU_ERR_WORKER_CRASHED');

      await master.restartWorker('mem-a');
      assert.ok(events.restarts.some((r) => r.worker_id === 'mem-a' && r.cause === 'manual'));
      assert.deepEqual(await master.call('mem-a', 'echo', 'y'), { instance: 3, input: 'y' });

      await master.stopWorker('mem-a');
      assert.deepEqual(events.transitions('mem-a'), [
        'idle->starting',
        'starting->running',
        'running->waiting_restart',
        'waiting_restart->starting',
        'starting->running',
        'running->stopping',
        'stopping->stopped',
        'stopped->starting',
        'starting->running',
        'running->stopping',
        'stopping->stopped',
      ]);
      const d = diagnostics(master, 'mem-a');
      assert.equal(d.state, 'stopped');
      assert.equal(d.restart_count, 1);
      // Every stop the controller asked for carried its grace, signal and cause.
      assert.deepEqual(
        runtime.instances.flatMap((i) => i.stops.map((s) => [s.cause, s.force, s.signal])),
        [
          ['requested', false, 'SIGTERM'],
          ['requested', false, 'SIGTERM'],
        ],
      );
      assert.ok(runtime.launches.every((l) => l.signal instanceof AbortSignal));
      assert.deepEqual(runtime.launches.map((l) => l.attempt), [0, 1, 0]);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(added, [
        { worker_id: 'mem-a', type: 'process', runtime: 'memory' },
        { worker_id: 'plain', type: 'process', runtime: 'process' },
      ]);
    }),
  );

  it('a kind registered twice is refused with HSU_ERR_RUNTIME_EXISTS', T, () =>
    withMaster(async ({ master }) => {
      master.registerRuntime(memoryRuntime('a-').definition);
      throwsWithCode(() => master.registerRuntime(memoryRuntime('b-').definition), 'HSU_ERR_RUNTIME_EXISTS');
      throwsWithCode(() => master.registerRuntime({ ...memoryRuntime('c-').definition, kind: 'thread' }), 'HSU_ERR_RUNTIME_EXISTS');
    }),
  );
});
