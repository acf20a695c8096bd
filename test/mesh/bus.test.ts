// The typed event bus: schema checks, isolation from slow and throwing subscribers, drop counting,
// and forwarding over a real MessagePort to another bus without echo loops.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import * as z from 'zod';
import { EventBus, createEventBus, type Envelope } from '../../src/mesh/index.js';
import { TimerTracker, issuePaths, settle, thrown, until } from './helpers.js';

const topics = {
  'orders.created': z.strictObject({ id: z.string(), total: z.number().min(0) }),
  'orders.cancelled': z.strictObject({ id: z.string() }),
};

void describe('typed topics', () => {
  it('delivers typed payloads asynchronously, in order, with their envelope', async () => {
    const bus = createEventBus(topics, { origin: 'master-1' });
    const got: string[] = [];
    const envelopes: Envelope[] = [];
    bus.subscribe('orders.created', (order, envelope) => {
      got.push(`${order.id}:${order.total.toFixed(2)}`);
      envelopes.push(envelope);
    });
    const envelope = bus.publish('orders.created', { id: 'o1', total: 3 });
    bus.publish('orders.created', { id: 'o2', total: 4.5 });
    bus.publish('orders.cancelled', { id: 'o1' });
    assert.deepEqual(got, [], 'publish returned before any subscriber ran');
    await settle();
    assert.deepEqual(got, ['o1:3.00', 'o2:4.50']);
    assert.deepEqual(envelopes[0], envelope);
    assert.equal(envelope.origin, 'master-1');
    assert.equal(envelope.id, 'master-1:1');
    assert.deepEqual(bus.stats().topics['orders.created']?.published, 2);
    bus.close();
  });

  it('refuses payloads that do not match, and topics without a schema, with coded, located errors', () => {
    const bus = createEventBus(topics);
    const bad = thrown(() => bus.publish('orders.created', { id: 7, total: -1 } as never));
    assert.equal(bad.code, 'HSU_ERR_BUS_PAYLOAD_INVALID');
    assert.deepEqual(issuePaths(bad).sort(), ['topic orders.created.id', 'topic orders.created.total']);
    assert.equal(thrown(() => bus.publish('orders.shipped' as 'orders.created', { id: 'x', total: 1 })).code, 'HSU_ERR_BUS_TOPIC_UNKNOWN');
    assert.equal(thrown(() => bus.subscribe('orders.shipped' as 'orders.created', () => undefined)).code, 'HSU_ERR_BUS_TOPIC_UNKNOWN');
    const free = new EventBus<{ 'a b': number }>();
    assert.equal(thrown(() => free.publish('a b', 1)).code, 'HSU_ERR_BUS_TOPIC_UNKNOWN', 'topic names are checked too');
    bus.close();
    assert.equal(thrown(() => bus.publish('orders.cancelled', { id: 'x' })).code, 'HSU_ERR_MESH_CLOSED');
  });
});

void describe('subscribers cannot hurt the publisher', () => {
  it('a throwing subscriber and a slow one: the publisher never waits, the others get everything, overflow is counted', async () => {
    const errors: unknown[] = [];
    const bus = new EventBus<{ tick: number }>({ on_subscriber_error: (error) => errors.push(error), queue_limit: 4 });
    const fast: number[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slowSeen: number[] = [];
    bus.subscribe(
      'tick',
      (n) => {
        if (n % 2 === 0) throw new Error(`bad subscriber on ${n}`);
      },
      { queue_limit: 100 },
    );
    const slow = bus.subscribe('tick', async (n) => {
      slowSeen.push(n);
      await gate;
    });
    bus.subscribe('tick', (n) => void fast.push(n), { queue_limit: 100 });
    for (let n = 0; n < 10; n++) bus.publish('tick', n);
    await settle();
    assert.deepEqual(fast, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(errors.length, 5);
    assert.deepEqual(slowSeen, [0]);
    assert.equal(slow.stats().dropped, 6, 'a queue of 4: six of the ten did not fit');
    release();
    await until('the slow subscriber to drain', () => slow.stats().pending === 0);
    assert.deepEqual(slowSeen, [0, 1, 2, 3]);
    bus.close();
  });

  it('a subscriber that unsubscribes gets nothing more; a synchronous flood yields to I/O between batches', async () => {
    const bus = new EventBus<{ n: number }>({ queue_limit: 10_000 });
    let count = 0;
    const sub = bus.subscribe('n', () => void count++);
    let immediateRan = false;
    setImmediate(() => (immediateRan = true));
    for (let i = 0; i < 5_000; i++) bus.publish('n', i);
    await until('the flood to drain', () => count === 5_000);
    assert.equal(immediateRan, true);
    sub.unsubscribe();
    bus.publish('n', 1);
    await settle();
    assert.equal(count, 5_000);
    bus.close();
  });
});

void describe('transport hook', () => {
  it('forwards envelopes over a real MessagePort; the other bus delivers them locally without forwarding back', async () => {
    const timers = new TimerTracker();
    const { port1, port2 } = new MessageChannel();
    const forwardedByB: Envelope[] = [];
    const a = createEventBus(topics, { origin: 'a', forward: (envelope) => port1.postMessage(envelope) });
    const b = createEventBus(topics, { origin: 'b', forward: (envelope) => forwardedByB.push(envelope) });
    port2.on('message', (envelope: unknown) => b.deliver(envelope));
    const seenByB: Envelope[] = [];
    b.subscribe('orders.created', (_order, envelope) => void seenByB.push(envelope));
    const sent = a.publish('orders.created', { id: 'o9', total: 1 });
    await until('b to receive', () => seenByB.length === 1);
    assert.deepEqual(seenByB[0], sent, 'the envelope survives structured clone unchanged');
    assert.deepEqual(forwardedByB, [], 'delivered envelopes are not forwarded again');
    assert.equal(b.stats().topics['orders.created']?.delivered_from_transport, 1);
    // Untrusted input from a transport is checked like a local publish.
    assert.equal(thrown(() => b.deliver({ ...sent, payload: { id: 1 } })).code, 'HSU_ERR_BUS_PAYLOAD_INVALID');
    assert.equal(thrown(() => b.deliver('garbage')).code, 'HSU_ERR_BUS_PAYLOAD_INVALID');
    port1.close();
    a.close();
    b.close();
    assert.equal(await timers.live(), 0);
    timers.stop();
  });

  it('a throwing forward is counted and reported; local subscribers still get the publication', async () => {
    const errors: unknown[] = [];
    const bus = new EventBus<{ t: string }>({
      forward: () => {
        throw new Error('transport down');
      },
      on_subscriber_error: (error) => errors.push(error),
    });
    const seen: string[] = [];
    bus.subscribe('t', (value) => void seen.push(value));
    bus.publish('t', 'x');
    await settle();
    assert.deepEqual(seen, ['x']);
    assert.equal(bus.stats().forward_failures, 1);
    assert.equal(errors.length, 1);
    bus.close();
  });
});
