// Autoscaling from YAML under a real load generator: process replicas of one worker grow from min to
// max while calls pile up (in-flight calls per replica) and shrink back to min once the load stops;
// never beyond the bounds, actions at least `cooldown` apart, every decision an event with its
// reason. A replica that becomes unhealthy is replaced: restarted in place by its lifecycle, or,
// with `restart: never`, by a new replica the autoscaler starts to keep `min`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ScaleEvent } from '../../src/master/events.js';
import { EVENT_TYPES, EventHub } from '../../src/api/event-hub.js';
import { diagnostics } from '../helpers/master-helpers.js';
import { load, until, withConfig, type Served } from './helpers.js';
import { replicaWorker } from './yaml.js';

const T = { timeout: 120_000 };
const COOLDOWN_MS = 400;

void describe('autoscaling under load', () => {
  it('grows 1 -> 3 under load and shrinks back to 1 without it; bounds, cooldown and reasons hold', T, async (t) => {
    await withConfig(
      (p) =>
        replicaWorker(p, {
          id: 'pool',
          deployment: 'process',
          extra: `
    instances: 1
    autoscale: { min: 1, max: 3, metric: inflight_per_replica, scale_up_at: 2, scale_down_at: 0.5, window: 400ms, cooldown: ${COOLDOWN_MS}ms }
`,
        }),
      async ({ master }) => {
        const decisions: ScaleEvent[] = [];
        master.on('scale', (e) => {
          decisions.push(e);
        });
        let most = 0;
        master.on('added', () => {
          most = Math.max(most, master.listReplicas('pool').length);
        });
        await master.start();
        assert.deepEqual(master.listReplicas('pool'), ['pool#0']);

        const served = new Set<string>();
        let calls = 0;
        let failures = 0;
        const generator = load(
          8,
          () => master.call('pool', 'work', { ms: 40 }),
          (o) => {
            if (o.ok) served.add((o.value as Served).worker);
            else failures++;
            calls++;
          },
        );
        try {
          await until('three replicas serving under load', () => served.size === 3 && master.listReplicas('pool').length === 3);
          // Held at max: 150 more calls (more than a window and a cooldown) under the same load, no fourth replica.
          const mark = calls;
          await until('150 more calls at max', () => calls > mark + 150);
          assert.equal(master.listReplicas('pool').length, 3);
        } finally {
          await generator.stop();
        }
        assert.equal(failures, 0, 'no call failed while replicas were added');
        assert.deepEqual([...served].sort(), ['pool#0', 'pool#1', 'pool#2']);

        await until('back to min once idle', () => master.listReplicas('pool').length === 1);
        assert.deepEqual(master.listReplicas('pool'), ['pool#0'], 'the newest went first');
        assert.ok(most <= 3, `never above max: ${most}`);

        const actions = decisions.filter((d) => d.action !== 'none');
        t.diagnostic(actions.map((d) => `${d.action} ${d.from}->${d.to} (${d.reason})`).join('; '));
        assert.deepEqual(
          actions.map((d) => [d.action, d.from, d.to]),
          [
            ['scale_up', 1, 2],
            ['scale_up', 2, 3],
            ['scale_down', 3, 2],
            ['scale_down', 2, 1],
          ],
        );
        for (const d of actions) {
          assert.equal(d.worker_id, 'pool');
          assert.equal(d.metric, 'inflight_per_replica');
          assert.match(d.reason, d.action === 'scale_up' ? /inflight_per_replica [\d.]+ > scale_up_at 2/ : /inflight_per_replica [\d.]+ < scale_down_at 0.5 for 400 ms/);
        }
        for (let i = 1; i < actions.length; i++) assert.ok((actions[i] as ScaleEvent).at - (actions[i - 1] as ScaleEvent).at >= COOLDOWN_MS, 'actions at least a cooldown apart');
        assert.equal(master.services.registry.instances('pool').length, 1, 'removed replicas are deregistered');
      },
    );
  });

  it('an unhealthy replica is replaced: restarted in place, or with restart: never by a new replica that keeps min', T, async () => {
    const pool = (policy: string): string => `
    instances: 2
    autoscale: { min: 2, max: 3, metric: inflight_per_replica, scale_up_at: 100, scale_down_at: 0, window: 300ms, cooldown: 300ms }
    health_check: { type: runtime, interval: 100ms, timeout: 2s, failure_threshold: 1 }
    restart: { policy: ${policy}, backoff: { initial: 20ms, max: 100ms } }
`;
    await withConfig(
      (p) => replicaWorker(p, { id: 'keep', deployment: 'process', extra: pool('always') }) + replicaWorker(p, { id: 'once', deployment: 'thread', extra: pool('never') }),
      async ({ master, flag, cure }) => {
        const decisions: ScaleEvent[] = [];
        master.on('scale', (e) => {
          decisions.push(e);
        });
        await master.start();
        const healthyOf = (service: string): string[] => master.services.registry.healthy(service).map((i) => i.id).sort();
        const servers = async (service: string): Promise<Set<string>> => {
          const out = new Set<string>();
          for (let i = 0; i < 8; i++) out.add(((await master.call(service, 'work', { ms: 0 })) as Served).worker);
          return out;
        };

        // Restarted in place by its lifecycle: same id, new process, healthy and serving again.
        const pid = diagnostics(master, 'keep#1').pid;
        flag('sick', 'keep#1');
        await until('keep#1 to be found unhealthy', () => master.services.registry.get('keep#1')?.health === 'unhealthy');
        cure('sick', 'keep#1');
        await until('keep#1 replaced by a new process', () => master.getWorkerState('keep#1') === 'running' && diagnostics(master, 'keep#1').pid !== pid);
        await until('both replicas healthy again', () => healthyOf('keep').join() === 'keep#0,keep#1');
        assert.deepEqual([...(await servers('keep'))].sort(), ['keep#0', 'keep#1']);

        // restart: never: the unhealthy replica ends failed, and the autoscaler starts another to keep min.
        flag('sick', 'once#1');
        await until('once#1 to fail', () => master.getWorkerState('once#1') === 'failed');
        await until('a new replica to keep min', () => healthyOf('once').join() === 'once#0,once#2');
        const refill = decisions.find((d) => d.worker_id === 'once' && d.action === 'scale_up');
        assert.deepEqual([refill?.from, refill?.to, refill?.reason], [1, 2, '1 replica(s) is below min 2']);
        assert.deepEqual([...(await servers('once'))].sort(), ['once#0', 'once#2']);
        assert.equal(decisions.filter((d) => d.worker_id === 'keep').length, 0, 'restarting in place needed no scaling decision');
      },
    );
  });

  it('scaling down takes a replica that is not serving (failed) before the newest', T, async () => {
    await withConfig(
      (p) =>
        replicaWorker(p, {
          id: 'shrink',
          deployment: 'thread',
          extra: `
    instances: 3
    autoscale: { min: 1, max: 3, metric: inflight_per_replica, scale_up_at: 100, scale_down_at: 0.5, window: 2s, cooldown: 300ms }
    health_check: { type: runtime, interval: 100ms, timeout: 2s, failure_threshold: 1 }
    restart: { policy: never }
`,
        }),
      async ({ master, flag }) => {
        const removed: string[] = [];
        master.on('removed', (e) => {
          removed.push(e.worker_id);
        });
        await master.start();
        flag('sick', 'shrink#1');
        await until('shrink#1 to fail', () => master.getWorkerState('shrink#1') === 'failed');
        await until('the first scale-down', () => removed.length >= 1);
        assert.equal(removed[0], 'shrink#1', `the failed replica goes first, not the newest: ${removed.join()}`);
        await until('back to min', () => master.listReplicas('shrink').length === 1);
        assert.deepEqual(master.listReplicas('shrink'), ['shrink#0']);
      },
    );
  });
});

void describe('autoscaling on the bus', () => {
  it(
    'scaling decisions are published on master.bus as hsu.scale, and are scale frames of GET /events',
    T,
    async () => {
      await withConfig(
        (p) =>
          replicaWorker(p, {
            id: 'bus',
            deployment: 'thread',
            extra: '    instances: 1\n    autoscale: { min: 1, max: 2, metric: inflight_per_replica, scale_up_at: 0.5, scale_down_at: 0.1, window: 200ms, cooldown: 200ms }',
          }),
        async ({ master }) => {
          const published: unknown[] = [];
          master.bus.subscribe('hsu.scale', (payload) => {
            published.push(payload);
          });
          const onEvents: ScaleEvent[] = [];
          master.on('scale', (e) => {
            onEvents.push(e);
          });
          // What GET /events streams (its default types include scale): the hub's SSE frames.
          const frames: string[] = [];
          const unsubscribe = new EventHub(master).subscribe(EVENT_TYPES.filter((type) => type !== 'output'), undefined, (frame) => frames.push(new TextDecoder().decode(frame)));
          await master.start();
          const generator = load(2, () => master.call('bus', 'work', { ms: 100 }), () => undefined);
          try {
            await until('a scale-up decision', () => onEvents.some((e) => e.action === 'scale_up'));
          } finally {
            await generator.stop();
          }
          await until('the decision on the bus', () => published.length > 0, 2_000);
          assert.equal((published[0] as ScaleEvent).action, 'scale_up');
          const frame = frames.find((f) => f.startsWith('event: scale\n'));
          unsubscribe();
          assert.ok(frame !== undefined, `a scale frame among ${frames.length}`);
          const data = JSON.parse(frame.slice(frame.indexOf('data: ') + 6)) as ScaleEvent;
          assert.deepEqual([data.worker_id, data.action, data.from, data.to], ['bus', 'scale_up', 1, 2]);
        },
      );
    },
  );
});
