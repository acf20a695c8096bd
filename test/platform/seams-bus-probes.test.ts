// The event bus and the probe registry. The bus delivers asynchronously (never inside emit) and in
// order, events published by a subscriber join the queue behind the ones already there, and a
// subscriber that throws or rejects is reported to onError while the others still receive. The
// probe registry refuses a duplicate type and names the types it has for an unknown one.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { HealthCheckConfig } from '../../src/config/index.js';
import type { BusErrorReport } from '../../src/events/bus.js';
import { EventBus, ProbeRegistry, type Instance } from '../../src/index.js';
import { throwsWithCode } from '../helpers/master-helpers.js';

interface TestEvents {
  tick: { n: number };
  tock: { n: number };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

void describe('EventBus', () => {
  it('delivers after emit returns, in publication order; events emitted by a subscriber queue behind', async () => {
    const bus = new EventBus<TestEvents>();
    const got: string[] = [];
    bus.on('tick', (e) => {
      got.push(`tick ${e.n}`);
      if (e.n === 1) bus.emit('tock', { n: 1 }); // published mid-delivery
    });
    bus.on('tock', (e) => got.push(`tock ${e.n}`));
    bus.emit('tick', { n: 1 });
    bus.emit('tick', { n: 2 });
    bus.emit('tock', { n: 2 });
    assert.deepEqual(got, [], 'no subscriber ran inside emit()');
    await turn();
    assert.deepEqual(got, ['tick 1', 'tick 2', 'tock 2', 'tock 1']);
  });

  it('a throwing or rejecting subscriber is reported to onError; the others still receive', async () => {
    const reports: BusErrorReport[] = [];
    const bus = new EventBus<TestEvents>((report) => reports.push(report));
    const got: number[] = [];
    bus.on('tick', () => {
      throw new Error('sync failure');
    });
    bus.on('tick', () => Promise.reject(new Error('async failure')));
    bus.on('tick', (e) => got.push(e.n));
    bus.emit('tick', { n: 1 });
    bus.emit('tick', { n: 2 });
    await turn();
    assert.deepEqual(got, [1, 2]);
    assert.deepEqual(
      reports.map((r) => [r.event, (r.error as Error).message]).sort(),
      [
        ['tick', 'async failure'],
        ['tick', 'async failure'],
        ['tick', 'sync failure'],
        ['tick', 'sync failure'],
      ],
    );
  });

  it('an onError that throws itself breaks nothing', async () => {
    const bus = new EventBus<TestEvents>(() => {
      throw new Error('the reporter failed too');
    });
    const got: number[] = [];
    bus.on('tick', () => {
      throw new Error('subscriber failure');
    });
    bus.on('tick', (e) => got.push(e.n));
    bus.emit('tick', { n: 7 });
    await turn();
    assert.deepEqual(got, [7]);
  });

  it('once() with a filter resolves with the first match and unsubscribes; off() and has() keep the table exact', async () => {
    const bus = new EventBus<TestEvents>();
    const third = bus.once('tick', (e) => e.n === 3);
    assert.equal(bus.listenerCount('tick'), 1);
    for (const n of [1, 2, 3, 4]) bus.emit('tick', { n });
    assert.deepEqual(await third, { n: 3 });
    assert.equal(bus.listenerCount('tick'), 0);
    assert.equal(bus.has('tick'), false);
    const listener = (): void => undefined;
    const off = bus.on('tock', listener);
    assert.equal(bus.has('tock'), true);
    off();
    assert.equal(bus.has('tock'), false);
  });
});

void describe('ProbeRegistry', () => {
  const instance = { pid: undefined, exited: new Promise(() => undefined), released: new Promise(() => undefined), stop: () => Promise.resolve(), endpoint: () => undefined, diagnostics: () => ({}) } as unknown as Instance;
  const check = (type: string): HealthCheckConfig => ({ type, interval: 1000, timeout: 100, failure_threshold: 1, success_threshold: 1, initial_delay: 0 }) as unknown as HealthCheckConfig;

  it('a duplicate type is HSU_ERR_PROBE_EXISTS; a new type is listed and used', async () => {
    const registry = ProbeRegistry.withBuiltins();
    throwsWithCode(() => registry.register({ type: 'http', create: () => () => Promise.resolve({ ok: true }) }), 'HSU_ERR_PROBE_EXISTS');
    const signals: AbortSignal[] = [];
    registry.register({
      type: 'smoke' as 'runtime',
      create: () => (signal) => {
        signals.push(signal);
        return Promise.resolve({ ok: false, reason: 'from the exec probe' });
      },
    });
    assert.deepEqual(registry.types(), ['runtime', 'http', 'tcp', 'grpc', 'exec', 'smoke']);
    throwsWithCode(() => registry.register({ type: 'smoke' as 'runtime', create: () => () => Promise.resolve({ ok: true }) }), 'HSU_ERR_PROBE_EXISTS');
    const probe = registry.create(check('smoke'), { workerId: 'w', instance });
    const controller = new AbortController();
    assert.deepEqual(await probe(controller.signal), { ok: false, reason: 'from the exec probe' });
    assert.equal(signals[0], controller.signal, 'the probe got the signal it must honour');
  });

  it('an unknown type is HSU_ERR_PROBE_NOT_FOUND, naming the types there are', () => {
    const error = throwsWithCode(() => ProbeRegistry.withBuiltins().create(check('smoke-signal'), { workerId: 'w', instance }), 'HSU_ERR_PROBE_NOT_FOUND');
    assert.deepEqual(error.context.available, ['runtime', 'http', 'tcp', 'grpc', 'exec']);
  });
});
