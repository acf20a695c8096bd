// Soak of the master's routed hot path: `master.call(service)` over replicas from YAML (two inline,
// one thread) with round robin counting calls in flight and idempotent retries, while the thread replica is restarted
// mid-run; the heap after the run stays within a bound far below a per-call leak, every lease is
// released, and nothing remains after shutdown (withConfig's check).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withConfig, type Served } from './helpers.js';
import { replicaWorker } from './yaml.js';
import { heapAfterGc } from '../helpers/gc.js';


const CALLS = 40_000;
const IN_FLIGHT = 64;
/** 75 bytes per call: a leak of one small object per call would pass it. */
const BOUND_BYTES = 3 * 1024 * 1024;


void describe('soak', () => {
  it(`${CALLS} routed master.calls with a replica restarted mid-run stay within ${BOUND_BYTES / 2 ** 20} MB of heap; every lease is released`, { timeout: 120_000 }, async (t) => {
    await withConfig(
      (p) =>
        replicaWorker(p, {
          id: 'hot',
          deployment: 'inline',
          extra: '    instances: 2\n    balancer: { strategy: round_robin, track_in_flight: true }\n    resilience: { idempotent_actions: [work], retry: { max_attempts: 4 } }\n    restart: { policy: always }',
        }) + replicaWorker(p, { id: 'hot-thread', deployment: 'thread', extra: '    service: { name: hot }\n    restart: { policy: always }' }),
      async ({ master }) => {
        await master.start();
        /** `calls` calls from IN_FLIGHT lanes; with `restartAt`, the thread replica is restarted then and the run lasts until it served again. */
        const run = async (calls: number, restartAt?: number): Promise<{ failures: number; servedAfterRestart: number }> => {
          let issued = 0;
          let failures = 0;
          let restarted = restartAt === undefined;
          let servedAfterRestart = 0;
          let restart: Promise<void> | undefined;
          const lane = async (): Promise<void> => {
            while (issued < calls || !restarted || (restartAt !== undefined && servedAfterRestart < 100)) {
              if (issued++ === restartAt) restart = master.restartWorker('hot-thread').then(() => void (restarted = true));
              // Inline calls settle in microtasks: yield now and then, as calls arriving from I/O would, or the thread's restart could never run.
              if (issued % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
              const answer = (await master.call('hot', 'work', { ms: 0 }).catch(() => failures++)) as Served | number;
              if (restarted && typeof answer === 'object' && answer.worker === 'hot-thread') servedAfterRestart++;
            }
          };
          await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
          await restart;
          return { failures, servedAfterRestart };
        };
        await run(5_000); // warm the JIT and the caches before the baseline
        const before = heapAfterGc();
        const { failures, servedAfterRestart } = await run(CALLS, CALLS / 4);
        const grown = heapAfterGc() - before;
        const hot = master.services.router.diagnostics().find((d) => d.service === 'hot');
        t.diagnostic(`heap growth over ${CALLS} calls: ${(grown / 1024).toFixed(0)} KiB; picks ${JSON.stringify(hot?.balancer.instances.map((i) => [i.id, i.picks]))}; retries ${hot?.resilience.retry.retries}`);
        assert.equal(failures, 0, 'no call failed across the restart (drained, or retried elsewhere)');
        assert.ok(grown < BOUND_BYTES, `heap grew by ${grown} bytes`);
        assert.equal(hot?.balancer.in_flight, 0);
        assert.equal(hot?.instances, 3);
        assert.ok(servedAfterRestart >= 100, 'the restarted thread replica is back in the rotation');
      },
    );
  });
});
