// Soak of the hot path: many routed calls per strategy with replica churn, health flaps and
// retried failures, under a heap bound; nothing left behind after close.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hsuError } from '../../src/errors.js';
import { BALANCER_STRATEGIES, MemoryRegistry, ServiceRouter, createEventBus } from '../../src/mesh/index.js';
import * as z from 'zod';
import { TimerTracker, instance, settle, until } from './helpers.js';
import { heapAfterGc } from '../helpers/gc.js';



const CALLS = 40_000;
const IN_FLIGHT = 64;
/** Heap growth allowed over a run: far below what a per-call leak (>= 100 bytes x 40,000 x 5 strategies) would add. */
const BOUND_BYTES = 6 * 1024 * 1024;

void describe('soak', () => {
  it(`${CALLS} routed calls per strategy with churn and failures stay within ${BOUND_BYTES / 2 ** 20} MB of heap and leave nothing behind`, async () => {
    const timers = new TimerTracker();
    const registry = new MemoryRegistry();
    // Every strategy counts calls in flight here, so the assertion below checks that every lease is released.
    const services = Object.fromEntries(
      BALANCER_STRATEGIES.map((strategy) => [strategy, { balancer: strategy === 'consistent_hash' ? { strategy, hash_key: 'k', track_in_flight: true } : { strategy, track_in_flight: true } }]),
    );
    let n = 0;
    const router = new ServiceRouter({
      registry,
      services: services as never,
      invoke: (_instance, _action, input) => (++n % 97 === 0 ? Promise.reject(hsuError('CALL_INTERRUPTED', 'flaky')) : Promise.resolve(input)),
    });
    let generation = 0;
    for (const strategy of BALANCER_STRATEGIES) for (let i = 0; i < 4; i++) registry.register(instance(`${strategy}#${generation}-${i}`, strategy, { weight: i + 1 }));

    const run = async (strategy: string): Promise<number> => {
      let failures = 0;
      let issued = 0;
      const lane = async (): Promise<void> => {
        while (issued < CALLS) {
          const k = issued++;
          if (k % 5_000 === 0) {
            // Churn: one replica leaves, a new one joins, another flaps.
            const [first] = registry.instances(strategy);
            if (first !== undefined) registry.deregister(first.id);
            registry.register(instance(`${strategy}#${++generation}-x`, strategy));
            const flap = registry.instances(strategy)[1];
            if (flap !== undefined) registry.setHealth(flap.id, flap.health === 'healthy' ? 'unhealthy' : 'healthy');
          }
          await router.call(strategy, 'echo', { k: `key-${k % 1_000}` }, { idempotent: k % 2 === 0 }).catch(() => failures++);
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
      return failures;
    };

    for (const strategy of BALANCER_STRATEGIES) await run(strategy); // warm-up: code paths, maps at size
    const before = heapAfterGc();
    for (const strategy of BALANCER_STRATEGIES) {
      const failures = await run(strategy);
      assert.ok(failures < CALLS / 97, `${strategy}: only non-idempotent flaky calls fail (${failures})`);
    }
    await settle();
    const growth = heapAfterGc() - before;
    assert.ok(growth < BOUND_BYTES, `heap grew ${(growth / 2 ** 20).toFixed(2)} MB`);
    for (const stats of router.diagnostics()) {
      assert.equal(stats.balancer.in_flight, 0, `${stats.service}: every lease released`);
      assert.ok(stats.balancer.instances.length <= 5, `${stats.service}: records of departed replicas are dropped (${stats.balancer.instances.length})`);
    }
    router.close();
    registry.close();
    assert.equal(await timers.live(), 0);
    timers.stop();
  });

  it('a bus publishing to a stalled subscriber stays bounded by its queue limit', async () => {
    const bus = createEventBus({ t: z.number() }, { queue_limit: 100 });
    const stalled = bus.subscribe('t', () => new Promise<void>(() => undefined));
    let delivered = 0;
    const fast = bus.subscribe('t', () => void delivered++, { queue_limit: 100_000 });
    const drained = (): Promise<void> => until('the fast subscriber to drain', () => fast.stats().pending === 0);
    for (let i = 0; i < 1_000; i++) bus.publish('t', i);
    await drained();
    const before = heapAfterGc();
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 1_000; i++) bus.publish('t', i);
      await drained();
    }
    const growth = heapAfterGc() - before;
    assert.ok(growth < 2 * 1024 * 1024, `heap grew ${(growth / 2 ** 20).toFixed(2)} MB`);
    assert.equal(stalled.stats().pending, 100, 'the queue is full; one more sits in the stalled handler');
    assert.equal(stalled.stats().dropped, 51_000 - 101);
    assert.equal(delivered, 51_000);
    bus.close();
  });
});
