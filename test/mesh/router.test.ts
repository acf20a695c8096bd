// The service router over real async functions: balancing with real concurrency, retries of
// idempotent calls only (elsewhere), no healthy replica, middleware, bad config, and close().
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hsuError } from '../../src/errors.js';
import { MemoryRegistry, ServiceRouter, type CallMiddleware, type CallRequestOptions, type RouterEvent, type ServiceInstance } from '../../src/mesh/index.js';
import { TimerTracker, instance, issuePaths, registerMany, rejection, settle, sleep, tally, thrown } from './helpers.js';

type Replica = (action: string, input: unknown, options: CallRequestOptions) => Promise<unknown>;

/** A registry, a router and a table of replica functions the router invokes by instance id. */
function setup(config: ConstructorParameters<typeof ServiceRouter>[0]['services'] = {}, middleware: CallMiddleware[] = []) {
  const registry = new MemoryRegistry();
  const replicas = new Map<string, Replica>();
  const served: string[] = [];
  const router = new ServiceRouter({
    registry,
    services: config,
    middleware,
    invoke: (target: ServiceInstance, action, input, options) => {
      served.push(target.id);
      const replica = replicas.get(target.id);
      if (replica === undefined) return Promise.reject(hsuError('CALL_NOT_RUNNING', `${target.id} is gone`));
      return replica(action, input, options);
    },
  });
  const events: RouterEvent[] = [];
  router.subscribe((event) => void events.push(event));
  const close = (): void => {
    router.close();
    registry.close();
  };
  return { registry, replicas, router, served, events, close };
}

const echo: Replica = async (_action, input) => input;

void describe('routing', () => {
  it('spreads calls over healthy replicas and follows health changes at the next call', async () => {
    const { registry, replicas, router, served, close } = setup();
    for (const id of registerMany(registry, 'api', 3)) replicas.set(id, echo);
    for (let i = 0; i < 6; i++) assert.equal(await router.call('api', 'echo', i), i);
    assert.deepEqual(Object.fromEntries(tally(served)), { 'api#0': 2, 'api#1': 2, 'api#2': 2 });
    registry.setHealth('api#1', 'unhealthy');
    served.length = 0;
    for (let i = 0; i < 4; i++) await router.call('api', 'echo', i);
    assert.deepEqual(Object.fromEntries(tally(served)), { 'api#0': 2, 'api#2': 2 });
    close();
  });

  it('no healthy replica, or an unknown service, is NO_HEALTHY_INSTANCE with the service name; unknown names leave no route behind', async () => {
    const { registry, router, close } = setup();
    registerMany(registry, 'api', 2);
    for (const id of ['api#0', 'api#1']) registry.setHealth(id, 'unhealthy');
    const none = await rejection(router.call('api', 'echo'));
    assert.equal(none.code, 'HSU_ERR_NO_HEALTHY_INSTANCE');
    assert.equal(none.context?.['service'], 'api');
    const typo = await rejection(router.call('apu', 'echo'));
    assert.equal(typo.code, 'HSU_ERR_NO_HEALTHY_INSTANCE');
    assert.deepEqual(router.diagnostics().map((d) => d.service), ['api']);
    close();
  });

  it('least connections with real concurrent calls: every pick takes an instance with the fewest in flight; the slow replica gets fewer calls', async () => {
    const { registry, replicas, router, served, close } = setup({ api: { balancer: { strategy: 'least_connections' } } });
    const ids = registerMany(registry, 'api', 3);
    const violations: string[] = [];
    ids.forEach((id, i) => {
      replicas.set(id, async () => {
        const stats = router.diagnostics()[0]?.balancer.instances ?? [];
        const mine = (stats.find((s) => s.id === id)?.in_flight ?? 0) - 1; // before this call took its slot
        const others = Math.min(...stats.filter((s) => s.id !== id).map((s) => s.in_flight));
        if (mine > others) violations.push(`${id} had ${mine} in flight while another had ${others}`);
        await sleep(i === 2 ? 30 : 5);
      });
    });
    const lanes = Array.from({ length: 12 }, async () => {
      for (let k = 0; k < 15; k++) await router.call('api', 'work');
    });
    await Promise.all(lanes);
    assert.deepEqual(violations, []);
    const counts = tally(served);
    assert.ok((counts.get('api#2') ?? 0) < Math.min(counts.get('api#0') ?? 0, counts.get('api#1') ?? 0), `slow replica served less: ${JSON.stringify(Object.fromEntries(counts))}`);
    assert.equal(router.diagnostics()[0]?.balancer.in_flight, 0, 'every slot released');
    close();
  });

  it('middleware runs outermost first around the routed call and may answer itself', async () => {
    const seen: string[] = [];
    const trace: CallMiddleware = async (request, next) => {
      seen.push(`trace:${request.service}.${request.action}`);
      return next(request);
    };
    const cache: CallMiddleware = (request, next) => (request.action === 'cached' ? Promise.resolve('from cache') : next(request));
    const { registry, replicas, router, close } = setup({}, [trace, cache]);
    for (const id of registerMany(registry, 'api', 1)) replicas.set(id, echo);
    assert.equal(await router.call('api', 'echo', 'x'), 'x');
    assert.equal(await router.call('api', 'cached'), 'from cache');
    assert.deepEqual(seen, ['trace:api.echo', 'trace:api.cached']);
    close();
  });
});

void describe('retries elsewhere, for idempotent calls only', () => {
  const interrupted: Replica = () => Promise.reject(hsuError('CALL_INTERRUPTED', 'the replica ended mid-call'));

  it('a replica failing mid-call: idempotent calls succeed on another replica, others fail with the coded error', async () => {
    const { registry, replicas, router, served, events, close } = setup({ api: { resilience: { idempotent_actions: ['get'] } } });
    const [bad, good] = registerMany(registry, 'api', 2) as [string, string];
    replicas.set(bad, interrupted);
    replicas.set(good, echo);
    // Round robin sends the first call of each pair to the failing replica.
    assert.equal(await router.call('api', 'get', 1), 1, 'idempotent by config');
    assert.equal(await router.call('api', 'put', 2, { idempotent: true }), 2, 'idempotent by call option');
    const lost = await rejection(router.call('api', 'put', 3));
    assert.equal(lost.code, 'HSU_ERR_CALL_INTERRUPTED');
    assert.deepEqual(served, [bad, good, bad, good, bad], 'the non-idempotent call ran once');
    await settle();
    const retries = events.filter((e) => e.type === 'retry');
    assert.equal(retries.length, 2);
    assert.deepEqual(retries[0], { type: 'retry', service: 'api', action: 'get', attempt: 2, delay_ms: retries[0]?.type === 'retry' ? retries[0].delay_ms : 0, code: 'HSU_ERR_CALL_INTERRUPTED', failed_instance: bad });
    assert.equal(router.diagnostics()[0]?.resilience.retry.retries, 2);
    close();
  });

  it('does not retry an action’s own error, and gives up after max_attempts with the last error', async () => {
    const { registry, replicas, router, served, close } = setup({ api: { resilience: { retry: { max_attempts: 3, backoff: { initial: 1, max: 2 } } } } });
    for (const id of registerMany(registry, 'api', 4)) replicas.set(id, interrupted);
    replicas.set('api#0', () => Promise.reject(new Error('validation failed')));
    const own = await rejection(router.call('api', 'get', 1, { idempotent: true }));
    assert.equal(own.message, 'validation failed');
    assert.equal(served.length, 1);
    served.length = 0;
    const exhausted = await rejection(router.call('api', 'get', 1, { idempotent: true }));
    assert.equal(exhausted.code, 'HSU_ERR_CALL_INTERRUPTED');
    assert.equal(served.length, 3, 'three attempts in all');
    assert.equal(new Set(served).size, 3, 'each on a different replica');
    close();
  });

  it('an undelivered call (replica gone) is retried when idempotent', async () => {
    const { registry, replicas, router, close } = setup();
    registerMany(registry, 'api', 2);
    replicas.set('api#1', echo); // api#0 has no function: CALL_NOT_RUNNING
    assert.equal(await router.call('api', 'get', 'ok', { idempotent: true }), 'ok');
    close();
  });
});

void describe('router config and close', () => {
  it('refuses bad blocks with located messages; a rejected configure() leaves the old route serving', async () => {
    const bad = thrown(
      () =>
        new ServiceRouter({
          registry: new MemoryRegistry(),
          invoke: () => Promise.resolve(),
          services: { api: { balancer: { strategy: 'least_connections' }, resilience: { retry: { max_attempts: 0, backoff: { initial: '2s', max: '1s' } }, bulkhead: { max_concurrent: 0 } } } },
        }),
    );
    assert.equal(bad.code, 'HSU_ERR_CONFIG_INVALID');
    assert.deepEqual(issuePaths(bad).sort(), ['services.api.resilience.bulkhead.max_concurrent', 'services.api.resilience.retry.backoff.max', 'services.api.resilience.retry.max_attempts']);
    const breaker = thrown(() => new ServiceRouter({ registry: new MemoryRegistry(), invoke: () => Promise.resolve(), services: { api: { resilience: { circuit_breaker: { half_open_after: '1s' } } } } }));
    assert.deepEqual(issuePaths(breaker), ['services.api.resilience.circuit_breaker']);

    const { registry, replicas, router, close } = setup();
    for (const id of registerMany(registry, 'api', 2)) replicas.set(id, echo);
    await router.call('api', 'echo');
    assert.throws(() => router.configure('api', { balancer: { strategy: 'consistent_hash', virtual_nodes: -1 } }), { code: 'HSU_ERR_CONFIG_INVALID' });
    assert.equal(router.diagnostics()[0]?.balancer.strategy, 'round_robin');
    assert.equal(await router.call('api', 'echo', 5), 5);
    router.configure('api', { balancer: { strategy: 'consistent_hash', hash_key: 'user.id' } });
    assert.equal(await router.call('api', 'echo', { user: { id: 'u1' } }).then(() => router.diagnostics()[0]?.balancer.strategy), 'consistent_hash');
    assert.equal((await rejection(router.call('api', 'echo', { nobody: true }))).code, 'HSU_ERR_HASH_KEY_MISSING');
    close();
  });

  it('close(): pending backoff ends with MESH_CLOSED, new calls are refused, no timer is left', async () => {
    const timers = new TimerTracker();
    const { registry, replicas, router, close } = setup({ api: { resilience: { retry: { max_attempts: 5, backoff: { initial: '10s', max: '10s' }, jitter: 'none' } } } });
    registerMany(registry, 'api', 2);
    for (const id of ['api#0', 'api#1']) replicas.set(id, () => Promise.reject(hsuError('CALL_INTERRUPTED', 'x')));
    const waiting = router.call('api', 'get', 1, { idempotent: true });
    await sleep(20);
    assert.equal(await timers.live(), 1, 'a 10 s backoff delay is pending');
    close();
    assert.equal((await rejection(waiting)).code, 'HSU_ERR_MESH_CLOSED');
    assert.equal((await rejection(router.call('api', 'get'))).code, 'HSU_ERR_MESH_CLOSED');
    assert.equal(await timers.live(), 0);
    timers.stop();
  });
});

void describe('registry-fed routing uses instance() shapes', () => {
  it('accepts endpoint types of every deployment', () => {
    const registry = new MemoryRegistry();
    for (const type of ['function', 'thread', 'ipc', 'url'] as const) registry.register(instance(`x-${type}`, 'x', { endpoint: { type, address: type } }));
    assert.equal(registry.healthy('x').length, 4);
    registry.close();
  });
});
