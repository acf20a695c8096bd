// A graceful stop drains: replicas of a thread or hosted module scaled down while calls are in
// flight finish those calls instead of failing them with HSU_ERR_CALL_INTERRUPTED; a call that
// outlives its share of the grace period (DRAIN_SHARE of stop_timeout) is interrupted when the
// module is told to stop, and the stop still ends within stop_timeout; a forced stop does not wait.
// The victims of one scale-down drain together, not one grace period after another.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DRAIN_SHARE } from '../../src/runtimes/module/remote-instance.js';
import { withConfig, type Served } from './helpers.js';
import { replicaWorker, type Deployment } from './yaml.js';

const T = { timeout: 60_000 };
const CALL_MS = 400;

type Outcome = { ok: true; worker: string } | { ok: false; code: string };

function settle(call: Promise<unknown>): Promise<Outcome> {
  return call.then(
    (answer) => ({ ok: true as const, worker: (answer as Served).worker }),
    (error: unknown) => ({ ok: false as const, code: String((error as { code?: unknown }).code) }),
  );
}

for (const deployment of ['thread', 'process'] as const satisfies readonly Deployment[]) {
  void describe(`draining ${deployment} replicas`, () => {
    it('scaled down 4 -> 2 with calls in flight on every replica: each call completes, on the replica that took it', T, async () => {
      await withConfig(
        (p) => replicaWorker(p, { id: 'pool', deployment, extra: '    instances: 4\n    stop_timeout: 10s' }),
        async ({ master }) => {
          await master.start();
          const transitions: string[] = [];
          master.on('state', (event) => {
            if (event.to === 'stopping' || event.to === 'stopped') transitions.push(`${event.worker_id} ${event.to}`);
          });
          // Round robin: 16 calls put 4 on each replica, the two that go among them.
          const calls = Array.from({ length: 16 }, () => settle(master.call('pool', 'work', { ms: CALL_MS })));
          await new Promise((resolve) => setTimeout(resolve, 50));
          const began = Date.now();
          assert.equal(await master.scaleWorker('pool', 2), 'applied');
          const took = Date.now() - began;
          const outcomes = await Promise.all(calls);
          assert.deepEqual(outcomes.filter((o) => !o.ok), [], 'no call failed');
          const served = new Map<string, number>();
          for (const o of outcomes) if (o.ok) served.set(o.worker, (served.get(o.worker) ?? 0) + 1);
          assert.deepEqual([...served.entries()].sort(), [['pool#0', 4], ['pool#1', 4], ['pool#2', 4], ['pool#3', 4]]);
          assert.deepEqual(master.listReplicas('pool'), ['pool#0', 'pool#1']);
          // The scale-down waited for the calls (not the whole grace period), draining both victims at once.
          assert.ok(took >= CALL_MS / 2 && took < 5_000, `scale-down took ${took} ms`);
          assert.deepEqual(transitions.slice(0, 2).sort(), ['pool#2 stopping', 'pool#3 stopping'], transitions.join(', '));
          assert.deepEqual(transitions.slice(2).sort(), ['pool#2 stopped', 'pool#3 stopped']);
        },
      );
    });

    it('a call longer than its share of stop_timeout is interrupted when the module is told to stop; the stop ends within stop_timeout', T, async () => {
      const stopMs = 1_000;
      await withConfig(
        (p) => replicaWorker(p, { id: 'slowpoke', deployment, extra: `    stop_timeout: ${stopMs}ms` }),
        async ({ master }) => {
          await master.start();
          const call = settle(master.call('slowpoke', 'work', { ms: 30_000 }));
          await new Promise((resolve) => setTimeout(resolve, 50));
          const began = Date.now();
          await master.stopWorker('slowpoke');
          const took = Date.now() - began;
          const outcome = await call;
          assert.equal(outcome.ok, false);
          assert.equal((outcome as { code: string }).code, 'HSU_ERR_CALL_INTERRUPTED');
          assert.equal(DRAIN_SHARE, 0.5);
          assert.ok(took >= stopMs / 2 - 50, `the drain waited its half of stop_timeout (${took} ms)`);
          assert.ok(took < stopMs + 2_000, `the stop ended within stop_timeout (${took} ms)`);
        },
      );
    });

    it('a call whose own deadline passes during the drain ends it: the stop does not wait out the share', T, async () => {
      await withConfig(
        (p) => replicaWorker(p, { id: 'deadline', deployment, extra: '    stop_timeout: 20s' }),
        async ({ master }) => {
          await master.start();
          const call = settle(master.call('deadline', 'work', { ms: 30_000 }, { timeout: 300 }));
          await new Promise((resolve) => setTimeout(resolve, 50));
          const began = Date.now();
          await master.stopWorker('deadline');
          const took = Date.now() - began;
          assert.equal(((await call) as { code?: string }).code, 'HSU_ERR_CALL_TIMEOUT');
          assert.ok(took < 5_000, `the drain ended with the call's deadline, not after half of 20 s (${took} ms)`);
        },
      );
    });

    it('a forced stop does not drain', T, async () => {
      await withConfig(
        (p) => replicaWorker(p, { id: 'forced', deployment, extra: '    stop_timeout: 20s' }),
        async ({ master }) => {
          await master.start();
          const call = settle(master.call('forced', 'work', { ms: 30_000 }));
          await new Promise((resolve) => setTimeout(resolve, 50));
          const began = Date.now();
          await master.stopWorker('forced', { force: true });
          assert.ok(Date.now() - began < 5_000, 'forced: no 10 s drain');
          assert.equal(((await call) as { code?: string }).code, 'HSU_ERR_CALL_INTERRUPTED');
        },
      );
    });
  });
}
