// Health-aware routing on a real master: three process replicas under load, one made unhealthy (its
// runtime health probe fails): from the moment the registry marks it unhealthy no call is routed
// to it; it is restarted and, while its readiness probe still fails, stays out of the rotation;
// once healthy it serves again. Its in-flight calls (idempotent by config) are not lost. The
// registry's changes and the health events are on master.bus.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diagnostics } from '../helpers/master-helpers.js';
import { load, until, withConfig, type Served } from './helpers.js';
import { replicaWorker } from './yaml.js';

const T = { timeout: 90_000 };
const SICK = 'pool#1';

void describe('health-aware routing', () => {
  it('an unhealthy replica gets no call until it is healthy again; no call fails meanwhile', T, async (t) => {
    await withConfig(
      (p) =>
        replicaWorker(p, {
          id: 'pool',
          deployment: 'process',
          extra: `
    instances: 3
    health_check: { type: runtime, interval: 100ms, timeout: 2s, failure_threshold: 1 }
    readiness: { type: runtime, interval: 50ms, timeout: 2s }
    restart: { policy: always, backoff: { initial: 20ms, max: 100ms } }
    resilience: { idempotent_actions: [work] }
`,
        }),
      async ({ master, flag, cure }) => {
        const seen: { topic: string; type?: string; id?: string; from?: string; to?: string; health?: string }[] = [];
        master.bus.subscribe('hsu.registry', (e) => {
          const change = e as { type: string; instance: { id: string; health: string }; from?: string; to?: string };
          seen.push({ topic: 'hsu.registry', type: change.type, id: change.instance.id, health: change.instance.health, ...(change.from === undefined ? {} : { from: change.from, to: change.to }) });
        });
        master.bus.subscribe('hsu.health', (e) => {
          seen.push({ topic: 'hsu.health', id: (e as { worker_id: string }).worker_id, to: (e as { status: string }).status });
        });
        await master.start();
        const before = diagnostics(master, SICK).pid;

        /** Each call notes whether the registry held the sick replica healthy when the call was made. */
        const calls: { worker: string; healthyAtCall: boolean; phase: string }[] = [];
        let failures = 0;
        let phase = 'healthy';
        const generator = load(
          6,
          () => {
            const healthyAtCall = master.services.registry.get(SICK)?.health === 'healthy';
            const at = phase;
            return master.call('pool', 'work', { ms: 2 }).then((answer) => ({ worker: (answer as Served).worker, healthyAtCall, phase: at }));
          },
          (outcome) => {
            if (outcome.ok) calls.push(outcome.value as { worker: string; healthyAtCall: boolean; phase: string });
            else failures++;
          },
        );
        const servedBy = (id: string, when: string): number => calls.filter((c) => c.worker === id && c.phase === when).length;
        try {
          await until('every replica to serve', () => ['pool#0', 'pool#1', 'pool#2'].every((id) => servedBy(id, 'healthy') > 0));

          flag('sick', SICK);
          await until('the registry to mark pool#1 unhealthy', () => master.services.registry.get(SICK)?.health === 'unhealthy');
          phase = 'sick';
          await until('pool#1 to be restarted and held back by its failing readiness probe', () => master.getWorkerState(SICK) === 'starting' && diagnostics(master, SICK).pid !== before);
          const mark = calls.length;
          await until('200 more calls served by its siblings', () => calls.length > mark + 200);
          assert.equal(master.getWorkerState(SICK), 'starting', 'still not ready: its probe still fails');
          assert.equal(master.services.registry.get(SICK)?.health, 'unhealthy');

          cure('sick', SICK);
          phase = 'cured';
          await until('pool#1 to serve again once healthy', () => servedBy(SICK, 'cured') > 10);
        } finally {
          await generator.stop();
        }

        const wrong = calls.filter((c) => c.worker === SICK && !c.healthyAtCall);
        t.diagnostic(`calls while sick: ${calls.filter((c) => c.phase === 'sick').length}, of which on pool#1: ${servedBy(SICK, 'sick')}`);
        assert.equal(wrong.length, 0, 'no call made while the registry held pool#1 unhealthy reached it');
        assert.equal(servedBy(SICK, 'sick'), 0);
        assert.ok(servedBy('pool#0', 'sick') > 0 && servedBy('pool#2', 'sick') > 0);
        assert.equal(failures, 0, 'calls in flight on the replica being restarted were retried elsewhere');
        assert.ok((diagnostics(master, SICK).restart_count) >= 1);

        await until('the bus to carry the health changes', () => seen.some((e) => e.type === 'health_changed' && e.id === SICK && e.to === 'healthy' && e.from === 'unhealthy'));
        const ours = seen.filter((e) => e.id === SICK);
        assert.ok(ours.some((e) => e.topic === 'hsu.health' && e.to === 'unhealthy'), JSON.stringify(ours));
        const fell = ours.findIndex((e) => e.type === 'health_changed' && e.from === 'healthy' && e.to === 'unhealthy');
        assert.ok(fell >= 0, JSON.stringify(ours));
        // Its restarted instance passed readiness: it is registered healthy at once (the new process's
        // endpoint is the `updated` event), not left out with the old instance's verdict until a probe.
        const reregistered = ours.slice(fell).find((e) => e.type === 'updated');
        assert.equal(reregistered?.health, 'healthy', JSON.stringify(ours));
      },
    );
  });
});
