// Resilience with real timers and short durations: breakers opening and recovering against a
// failing function, per-instance ejection, the bulkhead full, attempt timeouts and the caller's
// deadline, the standalone middleware, and no timer left behind.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hsuError } from '../../src/errors.js';
import { MemoryRegistry, ResiliencePolicy, ServiceRouter, composeMiddleware, resilienceMiddleware, type CallRequestOptions, type RouterEvent } from '../../src/mesh/index.js';
import { TimerTracker, issuePaths, registerMany, rejection, settle, sleep, thrown, until } from './helpers.js';

type Replica = (input: unknown, options: CallRequestOptions) => Promise<unknown>;

function setup(services: ConstructorParameters<typeof ServiceRouter>[0]['services'], count: number) {
  const registry = new MemoryRegistry();
  const replicas = new Map<string, Replica>();
  const router = new ServiceRouter({ registry, services, invoke: (target, _action, input, options) => (replicas.get(target.id) as Replica)(input, options) });
  const events: RouterEvent[] = [];
  router.subscribe((event) => void events.push(event));
  const ids = registerMany(registry, 'api', count);
  return { registry, replicas, router, events, ids, close: () => (router.close(), registry.close()) };
}

/** A replica that answers after `ms`, or rejects as soon as the call is aborted. */
function slow(ms: number, aborted?: () => void): Replica {
  return (input, options) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve(input), ms);
      options.signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        aborted?.();
        reject(options.signal?.reason as Error);
      });
    });
}

void describe('circuit breaker', () => {
  it('opens after consecutive failures of a failing function, refuses fast, and recovers through a half-open probe', async () => {
    const { replicas, router, events, ids, close } = setup({ api: { resilience: { circuit_breaker: { consecutive: 3, half_open_after: '100ms' } } } }, 1);
    let failing = true;
    let calls = 0;
    replicas.set(ids[0] as string, async (input) => {
      calls++;
      if (failing) throw hsuError('WORKER_CRASHED', 'down');
      return input;
    });
    for (let i = 0; i < 3; i++) assert.equal((await rejection(router.call('api', 'get'))).code, 'HSU_ERR_WORKER_CRASHED');
    const open = await rejection(router.call('api', 'get'));
    assert.equal(open.code, 'HSU_ERR_CIRCUIT_OPEN');
    assert.equal(open.context?.['scope'], 'service');
    assert.equal(calls, 3, 'refused without calling the replica');
    assert.equal(router.diagnostics()[0]?.resilience.circuit_breakers?.[ids[0] as string]?.state, 'open');
    failing = false;
    await until('the breaker to let a probe through and close', () => {
      void router.call('api', 'get', 'probe').catch(() => undefined);
      return router.diagnostics()[0]?.resilience.circuit_breakers?.[ids[0] as string]?.state === 'closed';
    });
    assert.equal(await router.call('api', 'get', 'ok'), 'ok');
    await settle();
    const transitions = events.filter((e) => e.type === 'circuit_state').map((e) => (e.type === 'circuit_state' ? `${e.from}>${e.to}` : ''));
    assert.deepEqual(transitions, ['closed>open', 'open>half_open', 'half_open>closed']);
    close();
  });

  it('a failed probe reopens the breaker', async () => {
    const { replicas, router, ids, close } = setup({ api: { resilience: { circuit_breaker: { consecutive: 1, half_open_after: '50ms' } } } }, 1);
    replicas.set(ids[0] as string, () => Promise.reject(hsuError('CALL_INTERRUPTED', 'x')));
    await rejection(router.call('api', 'get'));
    await sleep(70);
    assert.equal((await rejection(router.call('api', 'get'))).code, 'HSU_ERR_CALL_INTERRUPTED', 'the probe ran and failed');
    assert.equal((await rejection(router.call('api', 'get'))).code, 'HSU_ERR_CIRCUIT_OPEN');
    close();
  });

  it('is per instance: a failing replica is shut out while its siblings serve every call', async () => {
    const { replicas, router, ids, close } = setup({ api: { resilience: { circuit_breaker: { consecutive: 2, half_open_after: '1h' } } } }, 3);
    const [bad, ...good] = ids as [string, ...string[]];
    replicas.set(bad, () => Promise.reject(hsuError('WORKER_CRASHED', 'x')));
    for (const id of good) replicas.set(id, async (input) => input);
    let failures = 0;
    for (let i = 0; i < 30; i++) await router.call('api', 'get', i).catch(() => failures++);
    assert.equal(failures, 2, 'only the two calls that opened its breaker failed');
    assert.equal(router.diagnostics()[0]?.resilience.circuit_breakers?.[bad]?.state, 'open');
    close();
  });

  it('sampled: opens once the failed share passes the threshold with enough throughput; bad input does not count', async () => {
    const { replicas, router, ids, close } = setup({ api: { resilience: { circuit_breaker: { sampled: { threshold: 0.5, window: '5s', min_throughput: 10 }, half_open_after: '1h' } } } }, 1);
    let n = 0;
    replicas.set(ids[0] as string, async () => {
      n++;
      if (n % 4 === 0) throw hsuError('ACTION_NOT_FOUND', 'caller error'); // status 404: the replica works
      if (n % 2 === 1) throw hsuError('WORKER_CRASHED', 'x');
      return n;
    });
    for (let i = 0; i < 8; i++) await router.call('api', 'get').catch(() => undefined);
    assert.equal(router.diagnostics()[0]?.resilience.circuit_breakers?.[ids[0] as string]?.state, 'closed', 'below min_throughput');
    for (let i = 0; i < 12 && router.diagnostics()[0]?.resilience.circuit_breakers?.[ids[0] as string]?.state === 'closed'; i++) await router.call('api', 'get').catch(() => undefined);
    assert.equal(router.diagnostics()[0]?.resilience.circuit_breakers?.[ids[0] as string]?.state, 'open');
    close();
  });
});

void describe('bulkhead', () => {
  it('runs max_concurrent, queues up to queue, refuses the rest at once with BULKHEAD_FULL', async () => {
    const { replicas, router, events, ids, close } = setup({ api: { resilience: { bulkhead: { max_concurrent: 2, queue: 1 } } } }, 2);
    // Held until the test lets go: the bulkhead's occupancy is then a fact, not a race with a timer.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    for (const id of ids) replicas.set(id, async (input) => (await gate, input));
    const admitted = [1, 2, 3].map((i) => router.call('api', 'get', i));
    await settle();
    assert.deepEqual(router.diagnostics()[0]?.resilience.bulkhead, { max_concurrent: 2, queue: 1, active: 2, queued: 1, rejected: 0 });
    const full = await rejection(router.call('api', 'get', 4));
    assert.equal(full.code, 'HSU_ERR_BULKHEAD_FULL');
    assert.deepEqual(full.context, { service: 'api', action: 'get', max_concurrent: 2, queue: 1 });
    release();
    assert.deepEqual(await Promise.all(admitted), [1, 2, 3]);
    assert.equal(await router.call('api', 'get', 5), 5, 'slots free again');
    await settle();
    assert.equal(events.filter((e) => e.type === 'bulkhead_rejected').length, 1);
    close();
  });
});

void describe('timeouts', () => {
  it('an attempt timeout fails the attempt with CALL_TIMEOUT (scope attempt), aborts it, and an idempotent call moves on', async () => {
    const timers = new TimerTracker();
    const { replicas, router, ids, close } = setup({ api: { resilience: { timeout: '30ms' } } }, 2);
    let aborts = 0;
    replicas.set(ids[0] as string, slow(10_000, () => aborts++));
    replicas.set(ids[1] as string, async (input) => input);
    const timedOut = await rejection(router.call('api', 'put', 1));
    assert.equal(timedOut.code, 'HSU_ERR_CALL_TIMEOUT');
    assert.equal(timedOut.context?.['scope'], 'attempt');
    assert.equal(timedOut.context?.['instance_id'], ids[0]);
    assert.equal(await router.call('api', 'put', 2), 2, 'round robin: the other replica');
    assert.equal(await router.call('api', 'get', 3, { idempotent: true }), 3, 'timed out on the slow one, answered by the other');
    assert.equal(aborts, 2, 'the slow replica saw both aborts');
    close();
    assert.equal(await timers.live(), 0);
    timers.stop();
  });

  it('the caller’s timeout covers the whole call; its signal aborts it; both clean up', async () => {
    const timers = new TimerTracker();
    const { replicas, router, ids, close } = setup({ api: { balancer: { strategy: 'round_robin', track_in_flight: true } } }, 1);
    let aborts = 0;
    replicas.set(ids[0] as string, slow(10_000, () => aborts++));
    const late = await rejection(router.call('api', 'get', 1, { timeout: 30, idempotent: true }));
    assert.equal(late.code, 'HSU_ERR_CALL_TIMEOUT');
    assert.equal(late.context?.['scope'], 'call');
    const controller = new AbortController();
    const pending = router.call('api', 'get', 2, { signal: controller.signal });
    controller.abort();
    assert.equal((await rejection(pending)).code, 'HSU_ERR_CALL_ABORTED');
    assert.equal(aborts, 2);
    assert.equal(router.diagnostics()[0]?.balancer.in_flight, 0);
    close();
    assert.equal(await timers.live(), 0);
    timers.stop();
  });
});

void describe('policy as middleware and its config', () => {
  it('guards a single target: retry, breaker and timeout around next', async () => {
    const policy = new ResiliencePolicy('worker-a', { circuit_breaker: { consecutive: 2, half_open_after: '1h' }, retry: { max_attempts: 2, backoff: { initial: 1, max: 1 } } });
    let calls = 0;
    const call = composeMiddleware([resilienceMiddleware((service) => (service === 'worker-a' ? policy : undefined))], async () => {
      calls++;
      throw hsuError('CALL_INTERRUPTED', 'x');
    });
    assert.equal((await rejection(call({ service: 'worker-a', action: 'get', input: 1, options: { idempotent: true } }))).code, 'HSU_ERR_CALL_INTERRUPTED');
    assert.equal(calls, 2, 'one retry');
    assert.equal((await rejection(call({ service: 'worker-a', action: 'get', input: 1, options: {} }))).code, 'HSU_ERR_CIRCUIT_OPEN');
    assert.equal(calls, 2);
    assert.equal((await rejection(call({ service: 'other', action: 'get', input: 1, options: {} }))).code, 'HSU_ERR_CALL_INTERRUPTED', 'no policy: passed through');
    policy.close();
  });

  it('refuses nonsense with located messages', () => {
    const cases: [unknown, string[]][] = [
      [{ timeout: 0 }, ['resilience.timeout']],
      [{ timeout: 'soon' }, ['resilience.timeout']],
      [{ retry: { max_attempts: 11 } }, ['resilience.retry.max_attempts']],
      [{ retry: { jitter: 'some' } }, ['resilience.retry.jitter']],
      [{ retry: { on: ['CALL_TIMEOUT'] } }, ['resilience.retry.on[0]']],
      [{ circuit_breaker: { consecutive: 2, sampled: { threshold: 0.5, window: '1s' } } }, ['resilience.circuit_breaker']],
      [{ circuit_breaker: { sampled: { threshold: 1.5, window: '1s' } } }, ['resilience.circuit_breaker.sampled.threshold']],
      [{ bulkhead: { max_concurrent: 1, queue: -1 } }, ['resilience.bulkhead.queue']],
      [{ bulkheads: {} }, ['resilience.bulkheads']],
    ];
    for (const [config, paths] of cases) {
      const error = thrown(() => new ResiliencePolicy('api', config as never));
      assert.equal(error.code, 'HSU_ERR_CONFIG_INVALID', JSON.stringify(config));
      assert.deepEqual(issuePaths(error), paths, JSON.stringify(config));
    }
  });
});
