// The router over a real Master: one service served by an inline, a thread and a process replica
// of the same module; a replica killed with SIGKILL mid-load loses no idempotent call, a
// non-idempotent call in flight on it fails with a coded error, and the restarted replica serves again.
// The registry is fed from the master's state events here, as the lead's wiring will do.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Master } from '../../src/index.js';
import { MemoryRegistry, ServiceRouter } from '../../src/mesh/index.js';
import { alivePids, diagnostics, waitForGone, waitForState, withMaster } from '../helpers/master-helpers.js';
import { meshFixture, rejection, sleep, until } from './helpers.js';

const DEPLOYMENTS = [
  { id: 'rep-inline', type: 'module', isolation: 'inline', endpoint: 'function' },
  { id: 'rep-thread', type: 'module', isolation: 'thread', endpoint: 'thread' },
  { id: 'rep-process', type: 'process', isolation: undefined, endpoint: 'ipc' },
] as const;

function addReplicas(master: Master): void {
  for (const d of DEPLOYMENTS) {
    master.addWorker({
      id: d.id,
      type: d.type,
      module: { module_type: 'plugin', module_path: meshFixture('replica-module.mjs'), ...(d.isolation === undefined ? {} : { isolation: d.isolation }) },
      restart: { policy: 'always', backoff: { initial: '20ms', max: '50ms' } },
    } as never);
  }
}

/** What the lead's master will do: a running worker is a healthy instance, any other state an unhealthy one. */
function feedRegistry(master: Master, registry: MemoryRegistry): void {
  for (const d of DEPLOYMENTS) registry.register({ id: d.id, service: 'replica', endpoint: { type: d.endpoint, address: d.id }, health: 'unknown' });
  master.on('state', (event) => {
    if (registry.get(event.worker_id) !== undefined) registry.setHealth(event.worker_id, event.to === 'running' ? 'healthy' : 'unhealthy');
  });
}

void describe('replicas in every deployment behind one service', () => {
  it('balances across inline, thread and process; a SIGKILLed replica mid-load fails no idempotent call', async () => {
    const hosts: number[] = [];
    await withMaster(async ({ master }) => {
      const registry = new MemoryRegistry();
      feedRegistry(master, registry);
      addReplicas(master);
      const router = new ServiceRouter({
        registry,
        services: { replica: { balancer: { strategy: 'least_connections' }, resilience: { idempotent_actions: ['work'], retry: { max_attempts: 4 } } } },
        invoke: (instance, action, input, options) => master.call(instance.id, action, input, options),
      });
      try {
        await master.start();
        assert.equal(registry.healthy('replica').length, 3);
        const served = new Map<string, number>();
        let failures = 0;
        let stop = false;
        const lanes = Array.from({ length: 12 }, async (_, lane) => {
          for (let n = 0; !stop; n++) {
            try {
              const answer = (await router.call('replica', 'work', { ms: 10, n: lane * 10_000 + n })) as { worker: string };
              served.set(answer.worker, (served.get(answer.worker) ?? 0) + 1);
            } catch {
              failures++;
            }
          }
        });
        await until('every replica to serve', () => served.size === 3);
        const victim = diagnostics(master, 'rep-process').pid as number;
        const before = served.get('rep-process') ?? 0;
        process.kill(victim, 'SIGKILL');
        await waitForGone([victim]);
        await until('the process replica to be back and serving', () => (served.get('rep-process') ?? 0) > before + 20 && registry.get('rep-process')?.health === 'healthy');
        const restarted = diagnostics(master, 'rep-process').pid as number;
        assert.notEqual(restarted, victim, 'restarted with a new pid');
        hosts.push(restarted);
        stop = true;
        await Promise.all(lanes);
        assert.equal(failures, 0, 'no idempotent call failed across the kill');
        const stats = router.diagnostics()[0];
        assert.ok((stats?.resilience.retry.retries ?? 0) >= 1, 'calls in flight on the killed replica were retried elsewhere');
        assert.equal(stats?.balancer.in_flight, 0);
      } finally {
        router.close();
        registry.close();
      }
    });
    assert.deepEqual(await waitForGone(hosts), [], 'the restarted host ended with the master');
  });

  it('a non-idempotent call in flight on a killed replica fails with a coded error; the others complete', async () => {
    await withMaster(async ({ master }) => {
      const registry = new MemoryRegistry();
      feedRegistry(master, registry);
      addReplicas(master);
      const router = new ServiceRouter({ registry, invoke: (instance, action, input, options) => master.call(instance.id, action, input, options) });
      try {
        await master.start();
        // Round robin: one long call per replica.
        const calls = DEPLOYMENTS.map((_, n) => router.call('replica', 'work', { ms: 1_500, n }));
        await sleep(100);
        const victim = diagnostics(master, 'rep-process').pid as number;
        process.kill(victim, 'SIGKILL');
        const outcomes = await Promise.allSettled(calls);
        const byWorker = outcomes.map((o) => (o.status === 'fulfilled' ? (o.value as { worker: string }).worker : (o.reason as { code: string }).code));
        assert.equal(byWorker.filter((w) => w === 'rep-inline' || w === 'rep-thread').length, 2);
        const failed = byWorker.filter((w) => w.startsWith('HSU_ERR_'));
        assert.equal(failed.length, 1);
        assert.ok(['HSU_ERR_CALL_INTERRUPTED', 'HSU_ERR_WORKER_CRASHED'].includes(failed[0] as string), `coded: ${failed[0]}`);
        await waitForState(master, 'rep-process', 'running');
        await master.stopWorker('rep-process');
        for (const d of DEPLOYMENTS.filter((x) => x.id !== 'rep-process')) await master.stopWorker(d.id);
        assert.equal((await rejection(router.call('replica', 'work', { n: 0 }))).code, 'HSU_ERR_NO_HEALTHY_INSTANCE', 'all stopped: no healthy replica');
        const pid = diagnostics(master, 'rep-process').pid;
        assert.deepEqual(alivePids(typeof pid === 'number' ? [pid] : []), []);
      } finally {
        router.close();
        registry.close();
      }
    });
  });
});
