// The in-memory registry: lookups, the healthy view, typed change events, TTL expiry (fake clock
// and real timers), subscribers that throw or stall, bad registrations, and nothing left after close.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryRegistry, type RegistryEvent } from '../../src/mesh/index.js';
import { TimerTracker, instance, issuePaths, settle, sleep, thrown, until } from './helpers.js';

void describe('registry lookups and events', () => {
  it('keeps per-service arrays that change identity only when the service changes', async () => {
    const registry = new MemoryRegistry();
    const events: RegistryEvent[] = [];
    registry.subscribe((event) => void events.push(event));
    registry.register(instance('a#0', 'a'));
    registry.register(instance('a#1', 'a', { health: 'unknown', version: '2.0.0', node: 'n1', metadata: { zone: 'x' } }));
    registry.register(instance('b#0', 'b'));
    const healthy = registry.healthy('a');
    assert.deepEqual(healthy.map((i) => i.id), ['a#0']);
    assert.equal(registry.instances('a').length, 2);
    assert.equal(registry.healthy('a'), healthy, 'same array while nothing changed');
    assert.deepEqual(registry.services().sort(), ['a', 'b']);
    assert.deepEqual(registry.diagnostics(), { services: { a: { instances: 2, healthy: 1 }, b: { instances: 1, healthy: 1 } }, ttl_entries: 0, subscribers: 1 });
    assert.equal(registry.get('a#1')?.version, '2.0.0');
    assert.equal(registry.get('a#1')?.node, 'n1');
    assert.throws(() => (registry.get('a#0') as { health: string }).health = 'unhealthy', TypeError, 'snapshots are frozen');

    registry.setHealth('a#1', 'healthy');
    assert.notEqual(registry.healthy('a'), healthy);
    assert.deepEqual(registry.healthy('a').map((i) => i.id), ['a#0', 'a#1']);
    registry.update('a#0', { load: { inflight: 3 }, weight: 2 });
    registry.deregister('b#0');
    assert.deepEqual(registry.instances('b'), []);
    assert.deepEqual(registry.services(), ['a']);
    await settle();
    assert.deepEqual(
      events.map((e) => `${e.type}:${e.instance.id}`),
      ['added:a#0', 'added:a#1', 'added:b#0', 'health_changed:a#1', 'updated:a#0', 'removed:b#0'],
    );
    const health = events[3] as Extract<RegistryEvent, { type: 'health_changed' }>;
    assert.equal(health.from, 'unknown');
    assert.equal(health.to, 'healthy');
    assert.equal((events[5] as Extract<RegistryEvent, { type: 'removed' }>).reason, 'deregistered');
    registry.close();
  });

  it('filters events by service', async () => {
    const registry = new MemoryRegistry();
    const seen: string[] = [];
    registry.subscribe((event) => void seen.push(event.instance.id), { service: 'a' });
    registry.register(instance('a#0', 'a'));
    registry.register(instance('b#0', 'b'));
    await settle();
    assert.deepEqual(seen, ['a#0']);
    registry.close();
  });

  it('refuses bad registrations with located, coded errors and keeps what was registered', () => {
    const registry = new MemoryRegistry();
    registry.register(instance('a#0', 'a'));
    const bad = thrown(() => registry.register({ id: 'x y', service: 'a', endpoint: { type: 'carrier-pigeon' as 'url', address: '' }, weight: -1 }));
    assert.equal(bad.code, 'HSU_ERR_INSTANCE_INVALID');
    assert.deepEqual(issuePaths(bad).sort(), ['instance.endpoint.address', 'instance.endpoint.type', 'instance.id', 'instance.weight']);
    assert.equal(thrown(() => registry.register(instance('a#0', 'other'))).code, 'HSU_ERR_INSTANCE_EXISTS');
    assert.equal(thrown(() => registry.update('nope', { health: 'healthy' })).code, 'HSU_ERR_INSTANCE_NOT_FOUND');
    assert.equal(thrown(() => registry.update('a#0', { health: 'sick' as 'healthy' })).code, 'HSU_ERR_INSTANCE_INVALID');
    assert.equal(registry.get('a#0')?.health, 'healthy', 'a rejected update changes nothing');
    registry.close();
    assert.equal(thrown(() => registry.register(instance('a#1', 'a'))).code, 'HSU_ERR_MESH_CLOSED');
  });
});

void describe('TTL entries', () => {
  it('expire exactly when the clock passes ttl without a heartbeat (fake clock)', async () => {
    let now = 1_000;
    const registry = new MemoryRegistry({ now: () => now, sweep_interval: 60_000 });
    const removed: string[] = [];
    registry.subscribe((event) => {
      if (event.type === 'removed') removed.push(`${event.instance.id}:${event.reason}`);
    });
    registry.register(instance('ext#0', 'ext', { ttl: '5s' }));
    registry.register(instance('ext#1', 'ext', { ttl: 5_000 }));
    registry.register(instance('own#0', 'ext'));
    assert.equal(registry.get('ext#0')?.expires_at, 6_000);
    now = 5_999;
    registry.heartbeat('ext#1', { inflight: 2 });
    assert.equal(registry.sweep(), 0);
    now = 6_000;
    assert.equal(registry.sweep(), 1, 'ext#0 expires at its deadline; ext#1 was refreshed');
    now = 10_998;
    assert.equal(registry.sweep(), 0);
    now = 10_999;
    assert.equal(registry.sweep(), 1);
    assert.deepEqual(registry.instances('ext').map((i) => i.id), ['own#0'], 'entries without ttl never expire');
    assert.equal(thrown(() => registry.heartbeat('ext#0')).code, 'HSU_ERR_INSTANCE_NOT_FOUND');
    await settle();
    assert.deepEqual(removed, ['ext#0:expired', 'ext#1:expired']);
    registry.close();
  });

  it('expire with real timers while a live heartbeat keeps its entry, and the sweep timer stops with the last TTL entry', async () => {
    const timers = new TimerTracker();
    const registry = new MemoryRegistry({ sweep_interval: 10 });
    const expired: string[] = [];
    registry.subscribe((event) => {
      if (event.type === 'removed' && event.reason === 'expired') expired.push(event.instance.id);
    });
    registry.register(instance('gone#0', 'ext', { ttl: 60 }));
    registry.register(instance('live#0', 'ext', { ttl: 60 }));
    const beat = setInterval(() => registry.heartbeat('live#0'), 15);
    try {
      await until('gone#0 to expire', () => expired.includes('gone#0'));
      await sleep(120);
      assert.deepEqual(expired, ['gone#0'], 'the heartbeating entry outlives its ttl');
    } finally {
      clearInterval(beat);
    }
    await until('live#0 to expire once its heartbeat stops', () => expired.includes('live#0'));
    assert.equal(await timers.live(), 0, 'no TTL entry left: the sweep timer is gone before close()');
    registry.close();
    timers.stop();
  });

  it('close() clears the sweep timer even with TTL entries left, and it never held the process', async () => {
    const timers = new TimerTracker();
    const ref = process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const registry = new MemoryRegistry();
    registry.register(instance('ext#0', 'ext', { ttl: '1h' }));
    assert.equal(await timers.live(), 1, 'one sweep timer');
    assert.equal(process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length, ref, 'unref: it does not keep the process alive');
    registry.close();
    assert.equal(await timers.live(), 0);
    timers.stop();
  });
});

void describe('subscribers cannot hurt the registry', () => {
  it('a throwing subscriber and a stalled one neither block writes nor starve the others', async () => {
    const errors: unknown[] = [];
    const registry = new MemoryRegistry({ on_subscriber_error: (error) => errors.push(error) });
    let release: () => void = () => undefined;
    const stalled = new Promise<void>((resolve) => (release = resolve));
    const slowSeen: string[] = [];
    const fastSeen: string[] = [];
    registry.subscribe(() => {
      throw new Error('subscriber bug');
    });
    const slow = registry.subscribe(async (event) => {
      slowSeen.push(event.instance.id);
      await stalled;
    }, { queue_limit: 2 });
    registry.subscribe((event) => void fastSeen.push(event.instance.id));
    for (let i = 0; i < 5; i++) registry.register(instance(`s#${i}`, 's'));
    assert.equal(registry.instances('s').length, 5, 'writes completed while subscribers had not run');
    await settle();
    assert.deepEqual(fastSeen, ['s#0', 's#1', 's#2', 's#3', 's#4']);
    assert.deepEqual(slowSeen, ['s#0'], 'the slow subscriber is still on its first event');
    assert.equal(errors.length, 5, 'every throw was reported');
    // Five events in one synchronous burst met a queue of two: three were dropped and counted.
    assert.deepEqual(slow.stats(), { delivered: 0, dropped: 3, failed: 0, pending: 1, queue_limit: 2 });
    release();
    await until('the slow subscriber to drain', () => slow.stats().pending === 0 && slow.stats().delivered === 2);
    assert.deepEqual(slowSeen, ['s#0', 's#1'], 'in order, without the dropped ones');
    registry.close();
  });
});
