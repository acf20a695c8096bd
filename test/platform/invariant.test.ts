// A broken invariant becomes `failed` with an event, never a stuck worker: a registered runtime
// whose instance's stop() throws synchronously, or whose `exited` promise rejects (the contract
// says it never does), must leave the worker failed with HSU_ERR_INVARIANT in last_error.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkerConfigInput } from '../../src/index.js';
import { diagnostics, withMaster, type TestMaster } from '../helpers/master-helpers.js';
import { memoryRuntime, memoryWorker, type MemoryMode } from './memory-runtime.js';

const T = { timeout: 30_000 };

function addBroken(t: TestMaster, id: string, mode: MemoryMode): ReturnType<typeof memoryRuntime>['created'] {
  const { definition, created } = memoryRuntime('broken-');
  t.master.registerRuntime(definition);
  // The next launch waits (bounded by stop_timeout) for a broken instance's resources that never come back.
  t.master.addWorker(memoryWorker(id, mode, { stop_timeout: '300ms' }) as WorkerConfigInput);
  return created;
}

async function assertFailedWithInvariant(t: TestMaster, id: string): Promise<void> {
  const event = await t.events.state(id, 'failed');
  assert.equal(event.error?.code, 'HSU_ERR_INVARIANT', 'the failed transition carries the broken invariant');
  const d = diagnostics(t.master, id);
  assert.equal(d.state, 'failed');
  assert.equal(d.last_error?.code, 'HSU_ERR_INVARIANT');
  assert.equal(d.runtime, 'memory');
  assert.ok(!t.events.transitions(id).slice(-1)[0]?.endsWith('->stopping'), 'the worker was left stopping');
}

void describe('a runtime that breaks its contract', () => {
  it('stop() throwing synchronously: the stop settles and the worker is failed with HSU_ERR_INVARIANT', T, () =>
    withMaster(async (t) => {
      const created = addBroken(t, 'broken-stop', 'stop-throws');
      await t.master.startWorker('broken-stop');
      const outcome = await t.master.stopWorker('broken-stop').then(
        () => 'resolved',
        (error: unknown) => `rejected ${(error as { code?: string }).code}`,
      );
      assert.ok(outcome === 'resolved' || outcome === 'rejected HSU_ERR_INVARIANT', outcome);
      await assertFailedWithInvariant(t, 'broken-stop');
      assert.deepEqual(t.events.transitions('broken-stop'), ['idle->starting', 'starting->running', 'running->stopping', 'stopping->failed']);
      // Not stuck: a failed worker starts again.
      await t.master.startWorker('broken-stop');
      assert.equal(t.master.getWorkerState('broken-stop'), 'running');
      assert.equal(created.get('broken-stop')?.instances.length, 2);
    }),
  );

  it('exited rejecting while stopping: the worker is failed with HSU_ERR_INVARIANT, not left stopping', T, () =>
    withMaster(async (t) => {
      addBroken(t, 'broken-exit', 'exit-rejects');
      await t.master.startWorker('broken-exit');
      await t.master.stopWorker('broken-exit').catch(() => undefined);
      await assertFailedWithInvariant(t, 'broken-exit');
    }),
  );

  it('exited rejecting while running: the worker is failed with HSU_ERR_INVARIANT and calls are refused', T, () =>
    withMaster(async (t) => {
      const created = addBroken(t, 'broken-run', 'exit-rejects');
      await t.master.startWorker('broken-run');
      created.get('broken-run')?.current.breakExit();
      await assertFailedWithInvariant(t, 'broken-run');
      await assert.rejects(t.master.call('broken-run', 'echo', 1), { code: 'HSU_ERR_CALL_NOT_RUNNING' });
      assert.ok((created.get('broken-run')?.current.stops.length ?? 0) >= 1, 'the broken instance was told to end');
    }),
  );
});
