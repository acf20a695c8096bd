// The autoscaler: exact decisions on an injected clock (up, cooldown, hysteresis, slow scale-down,
// bounds, replacement), refused configs, and one run with real timers where a real load generator
// calls a real set of functions through the router and the pool grows and shrinks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AutoscaleLoop, Autoscaler, MemoryRegistry, ServiceRouter, type AutoscaleConfigInput, type ScaleDecision } from '../../src/mesh/index.js';
import { TimerTracker, instance, issuePaths, settle, sleep, thrown, until } from './helpers.js';

const BASE: AutoscaleConfigInput = { min: 1, max: 4, metric: 'inflight_per_replica', scale_up_at: 10, scale_down_at: 2, window: '10s', cooldown: '30s', step: 1 };

function clocked(config: Partial<AutoscaleConfigInput> = {}) {
  let now = 0;
  const scaler = new Autoscaler('api', { ...BASE, ...config } as AutoscaleConfigInput, { now: () => now });
  return { scaler, advance: (ms: number) => (now += ms) };
}

void describe('decisions on an injected clock', () => {
  it('scales up on the window mean above scale_up_at, then cools down', () => {
    const { scaler, advance } = clocked();
    assert.equal(scaler.observe({ replicas: 1, inflight: 5 }).action, 'none');
    advance(1_000);
    assert.equal(scaler.observe({ replicas: 1, inflight: 12 }).action, 'none', 'mean 8.5 is below 10');
    advance(1_000);
    const up = scaler.observe({ replicas: 1, inflight: 30 });
    assert.deepEqual({ action: up.action, from: up.from, to: up.to, value: up.value }, { action: 'scale_up', from: 1, to: 2, value: (5 + 12 + 30) / 3 });
    assert.match(up.reason, /inflight_per_replica 15\.67 > scale_up_at 10/);
    advance(29_000);
    const cooling = scaler.observe({ replicas: 2, inflight: 100 });
    assert.equal(cooling.action, 'none');
    assert.match(cooling.reason, /cooling down for 1000 ms/);
    advance(1_000);
    assert.deepEqual(pick(scaler.observe({ replicas: 2, inflight: 100 })), ['scale_up', 2, 3]);
  });

  it('does nothing between the thresholds (hysteresis) and scales down only after a full window below scale_down_at', () => {
    const { scaler, advance } = clocked({ cooldown: 0 });
    for (let i = 0; i < 20; i++) {
      assert.equal(scaler.observe({ replicas: 3, inflight: 3 * 5 }).action, 'none', 'per replica 5 is within [2, 10]');
      advance(1_000);
    }
    const down = clocked({ cooldown: 0 });
    const decisions: string[] = [];
    for (let t = 0; t <= 10_000; t += 1_000) {
      decisions.push(down.scaler.observe({ replicas: 3, inflight: 3 }).action);
      down.advance(1_000);
    }
    assert.deepEqual(decisions.slice(0, 10), Array(10).fill('none'), 'waiting for a full window');
    assert.equal(decisions[10], 'scale_down');
    assert.equal(down.scaler.observe({ replicas: 2, inflight: 0 }).action, 'none', 'the window restarts after an action');
  });

  it('respects min, max and step; corrects a count outside the bounds at once', () => {
    const { scaler, advance } = clocked({ step: 3, cooldown: 0 });
    assert.deepEqual(pick(scaler.observe({ replicas: 2, inflight: 100 })), ['scale_up', 2, 4], 'step 3 capped by max 4');
    advance(1);
    const atMax = scaler.observe({ replicas: 4, inflight: 400 });
    assert.equal(atMax.action, 'none');
    assert.match(atMax.reason, /already at max 4/);
    const bounds = clocked({ min: 2, cooldown: '1h' });
    assert.deepEqual(pick(bounds.scaler.observe({ replicas: 0, inflight: 0 })), ['scale_up', 0, 2]);
    assert.deepEqual(pick(bounds.scaler.observe({ replicas: 9, inflight: 0 })), ['scale_down', 9, 4], 'even while cooling down');
  });

  it('replaces an unhealthy replica once while it stays unhealthy, whatever the cooldown; decisions are events', async () => {
    const { scaler } = clocked({ cooldown: '1h' });
    const events: ScaleDecision[] = [];
    scaler.subscribe((decision) => void events.push(decision));
    const first = scaler.observe({ replicas: 2, inflight: 0, unhealthy: ['api#1'] });
    assert.deepEqual([first.action, first.instance_id, first.from, first.to], ['replace', 'api#1', 2, 2]);
    assert.equal(scaler.observe({ replicas: 2, inflight: 0, unhealthy: ['api#1'] }).action, 'none', 'already being replaced');
    scaler.observe({ replicas: 2, inflight: 0 });
    assert.equal(scaler.observe({ replicas: 2, inflight: 0, unhealthy: ['api#1'] }).action, 'replace', 'unhealthy again: replaced again');
    await settle();
    assert.deepEqual(events.map((e) => e.action), ['replace', 'replace'], 'none is not published');
    assert.match(events[0]?.reason ?? '', /api#1 is unhealthy/);
    scaler.close();
  });

  it('reads the configured metric; queue depth and cpu are taken as they are', () => {
    const queue = clocked({ metric: 'queue_depth', scale_up_at: 100, scale_down_at: 10 });
    assert.deepEqual(pick(queue.scaler.observe({ replicas: 2, queue_depth: 500 })), ['scale_up', 2, 3]);
    const cpu = clocked({ metric: 'cpu_percent', scale_up_at: 80, scale_down_at: 20 });
    assert.deepEqual(pick(cpu.scaler.observe({ replicas: 1, cpu_percent: 95 })), ['scale_up', 1, 2]);
    assert.equal(thrown(() => cpu.scaler.observe({ replicas: 1, inflight: 3 })).code, 'HSU_ERR_AUTOSCALE_SAMPLE_INVALID');
    assert.equal(thrown(() => cpu.scaler.observe({ replicas: -1, cpu_percent: 1 })).code, 'HSU_ERR_AUTOSCALE_SAMPLE_INVALID');
  });

  it('refuses nonsense with located messages', () => {
    const cases: [Partial<AutoscaleConfigInput> & Record<string, unknown>, string[]][] = [
      [{ min: 5, max: 2 }, ['autoscale.max']],
      [{ scale_down_at: 10, scale_up_at: 10 }, ['autoscale.scale_down_at']],
      [{ min: 0 }, ['autoscale.min']],
      [{ max: 10_000 }, ['autoscale.max']],
      [{ metric: 'rps' as 'cpu_percent' }, ['autoscale.metric']],
      [{ cooldown: 'later' }, ['autoscale.cooldown']],
      [{ replicas: 3 }, ['autoscale.replicas']],
    ];
    for (const [patch, paths] of cases) {
      const error = thrown(() => new Autoscaler('api', { ...BASE, ...patch } as AutoscaleConfigInput));
      assert.equal(error.code, 'HSU_ERR_CONFIG_INVALID', JSON.stringify(patch));
      assert.deepEqual(issuePaths(error), paths, JSON.stringify(patch));
    }
  });
});

function pick(decision: ScaleDecision): [string, number, number] {
  return [decision.action, decision.from, decision.to];
}

void describe('with real timers and a real load generator', () => {
  it('grows the pool of functions under load and shrinks it back when the load stops', async () => {
    const timers = new TimerTracker();
    const registry = new MemoryRegistry();
    const served = new Map<string, number>();
    const replica = (id: string) => async (): Promise<string> => {
      served.set(id, (served.get(id) ?? 0) + 1);
      await sleep(10);
      return id;
    };
    const functions = new Map<string, () => Promise<string>>();
    let next = 0;
    const addReplica = (): void => {
      const id = `pool#${next++}`;
      functions.set(id, replica(id));
      registry.register(instance(id, 'pool'));
    };
    addReplica();
    const router = new ServiceRouter({ registry, services: { pool: { balancer: { strategy: 'least_connections' } } }, invoke: (target) => (functions.get(target.id) as () => Promise<string>)() });
    const scaler = new Autoscaler('pool', { min: 1, max: 4, metric: 'inflight_per_replica', scale_up_at: 3, scale_down_at: 1, window: '150ms', cooldown: '100ms' });
    const decisions: ScaleDecision[] = [];
    const loop = new AutoscaleLoop({
      autoscaler: scaler,
      interval: 20,
      sample: () => ({ replicas: registry.instances('pool').length, inflight: router.load('pool').in_flight }),
      apply: (decision) => {
        decisions.push(decision);
        if (decision.action === 'scale_up') for (let n = decision.from; n < decision.to; n++) addReplica();
        if (decision.action === 'scale_down') {
          for (const victim of registry.instances('pool').slice(decision.to)) {
            registry.deregister(victim.id);
            functions.delete(victim.id);
          }
        }
      },
    });
    loop.start();
    let stop = false;
    let failed = 0;
    const lanes = Array.from({ length: 16 }, async () => {
      while (!stop) await router.call('pool', 'work').catch(() => failed++);
    });
    try {
      await until('the pool to reach max under load', () => registry.instances('pool').length === 4);
      await until('the newest replica to serve', () => served.size === 4);
      stop = true;
      await Promise.all(lanes);
      await until('the pool to shrink back to min', () => registry.instances('pool').length === 1);
    } finally {
      stop = true;
      await Promise.all(lanes);
      await loop.close();
    }
    assert.equal(failed, 0, 'no call failed while the pool changed');
    assert.ok(decisions.filter((d) => d.action === 'scale_up').length >= 3);
    assert.ok(decisions.filter((d) => d.action === 'scale_down').length >= 3);
    router.close();
    registry.close();
    scaler.close();
    assert.equal(await timers.live(), 0, 'the loop left no timer');
    timers.stop();
  });
});
