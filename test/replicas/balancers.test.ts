// Every balancer, configured in YAML, over replicas of mixed deployments sharing one service name
// (an inline module, a module in a worker thread, a module hosted in a child process), called
// through `master.call(service, ...)`. Tolerances are stated per strategy: deterministic strategies
// are exact; least connections is checked by its invariant and by the share a slow replica gets;
// random (power of two choices) by a share bound of 7 standard deviations; consistent hashing by
// stability, and when a replica stops, by the exact set of keys that move.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Master } from '../../src/index.js';
import { codeOf, count, load, openConfig, type Scenario, type Served } from './helpers.js';
import { trio } from './yaml.js';

const T = { timeout: 60_000 };
const SLOW_PROCESS = (d: string): { config: string } => ({ config: d === 'process' ? 'ms: 40' : 'ms: 4' });

async function work(master: Master, service: string, input: Record<string, unknown> = { ms: 0 }, options?: { key?: string }): Promise<Served> {
  return (await master.call(service, 'work', input, options)) as Served;
}

/** Shares of `counts` over their total, by replica id. */
function shares(counts: Record<string, number>): Record<string, number> {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return Object.fromEntries(Object.entries(counts).map(([id, n]) => [id, n / total]));
}

/** `calls` calls from `lanes` concurrent callers; the balancer's per-replica in-flight counts sampled while they run. */
async function concurrently(master: Master, service: string, lanes: number, calls: number): Promise<{ served: Record<string, number>; spreads: number[] }> {
  const served: string[] = [];
  let failures = 0;
  let issued = 0;
  const spreads: number[] = [];
  const generator = load(
    lanes,
    () => (issued++ < calls ? work(master, service, {}) : new Promise((resolve) => setTimeout(resolve, 5))),
    (outcome) => {
      if (!outcome.ok) failures++;
      else if (outcome.value !== undefined) served.push((outcome.value as Served).worker);
    },
  );
  // A timer callback runs between I/O turns, when every settled call has already issued its next one.
  const sampler = setInterval(() => {
    const balancer = master.services.router.diagnostics().find((d) => d.service === service)?.balancer;
    const inFlight = balancer?.instances.map((i) => i.in_flight) ?? [];
    if (issued < calls && inFlight.length === 3) spreads.push(Math.max(...inFlight) - Math.min(...inFlight));
  }, 15);
  while (served.length + failures < calls) await new Promise((resolve) => setTimeout(resolve, 20));
  clearInterval(sampler);
  await generator.stop();
  assert.equal(failures, 0);
  return { served: count(served), spreads };
}

void describe('every balancer from YAML over inline, thread and process replicas of one service', () => {
  let s: Scenario & { close: (check?: boolean) => Promise<void> };
  before(async () => {
    s = await openConfig((p) =>
      [
        trio(p, 'rr', '    balancer: { strategy: round_robin }'),
        trio(p, 'wrr', '    balancer: { strategy: weighted }', (d) => ({ service: `weight: ${d === 'inline' ? 3 : d === 'thread' ? 2 : 1}` })),
        trio(p, 'lc', '    balancer: { strategy: least_connections }', SLOW_PROCESS),
        trio(p, 'p2c', '    balancer: { strategy: random }', SLOW_PROCESS),
        trio(p, 'ch', '    balancer: { strategy: consistent_hash, hash_key: user.id, virtual_nodes: 160 }'),
      ].join(''),
    );
    const results = await s.master.start();
    assert.deepEqual(
      results.filter((r) => !r.ok),
      [],
    );
  });
  after(() => s.close());

  it('round_robin: 600 calls from 6 concurrent callers are exactly 200 per replica, and the balancer stats say so', T, async () => {
    const { served } = await concurrently(s.master, 'rr', 6, 600);
    assert.deepEqual(served, { 'rr-inline': 200, 'rr-thread': 200, 'rr-process': 200 });
    const stats = s.master.services.router.diagnostics().find((d) => d.service === 'rr');
    assert.deepEqual(Object.fromEntries(stats?.balancer.instances.map((i) => [i.id, i.picks]) ?? []), served);
    assert.equal(stats?.balancer.strategy, 'round_robin');
  });

  it('weighted (service.weight 3:2:1): 600 calls are exactly 300:200:100, interleaved (no replica twice in a row more than its weight allows)', T, async () => {
    const order: string[] = [];
    for (let i = 0; i < 600; i++) order.push((await work(s.master, 'wrr')).worker);
    assert.deepEqual(count(order), { 'wrr-inline': 300, 'wrr-thread': 200, 'wrr-process': 100 });
    // Smooth weighted round robin: one cycle of 6 holds every replica, never 3 of the heaviest in a row.
    for (let i = 0; i + 6 <= order.length; i += 6) assert.equal(new Set(order.slice(i, i + 6)).size, 3, `cycle at ${i}: ${order.slice(i, i + 6).join(' ')}`);
    assert.ok(!order.join(' ').includes('wrr-inline wrr-inline wrr-inline'));
  });

  it('least_connections: in-flight counts never differ by more than 1; the 10x slower process replica gets under 15% (round robin would give 33%)', T, async (t) => {
    const { served, spreads } = await concurrently(s.master, 'lc', 9, 900);
    t.diagnostic(`served ${JSON.stringify(served)}; in-flight spread over ${spreads.length} samples: max ${Math.max(...spreads)}`);
    assert.ok(spreads.length >= 5, `sampled the in-flight counts ${spreads.length} times`);
    assert.ok(Math.max(...spreads) <= 1, `in-flight spread per sample: ${spreads.join(',')}`);
    const share = shares(served);
    assert.ok((share['lc-process'] ?? 0) < 0.15, `process share ${JSON.stringify(share)}`);
    assert.ok((share['lc-inline'] ?? 0) > 0.3 && (share['lc-thread'] ?? 0) > 0.3, `fast replicas share the rest: ${JSON.stringify(share)}`);
  });

  it('random (power of two choices): 3000 calls are 1/3 ± 0.06 each; under load the slow process replica gets under 25%', T, async (t) => {
    const served: string[] = [];
    for (let i = 0; i < 3000; i++) served.push((await work(s.master, 'p2c')).worker);
    for (const [id, share] of Object.entries(shares(count(served)))) assert.ok(Math.abs(share - 1 / 3) < 0.06, `${id}: ${share}`);
    const { served: loaded } = await concurrently(s.master, 'p2c', 9, 900);
    t.diagnostic(`sequential ${JSON.stringify(count(served))}; under load ${JSON.stringify(loaded)}`);
    assert.ok((shares(loaded)['p2c-process'] ?? 0) < 0.25, `under load: ${JSON.stringify(shares(loaded))}`);
  });

  it('consistent_hash on user.id: keys keep their replica; a stopped replica moves exactly its own keys (~1/3), and takes them back when it returns', T, async (t) => {
    const keys = Array.from({ length: 300 }, (_, i) => `u-${i}`);
    const owners = async (): Promise<Map<string, string>> => {
      const out = new Map<string, string>();
      for (const key of keys) {
        const answer = await work(s.master, 'ch', { user: { id: key }, ms: 0 });
        assert.equal(answer.key, key);
        out.set(key, answer.worker);
      }
      return out;
    };
    const first = await owners();
    const share = shares(count(first.values()));
    assert.equal(Object.keys(share).length, 3);
    for (const [id, value] of Object.entries(share)) assert.ok(value > 0.2 && value < 0.47, `${id} owns ${value} of the keys`);
    assert.deepEqual(await owners(), first, 'every key kept its replica');
    assert.equal((await work(s.master, 'ch', { user: { id: 'u-1' }, ms: 0 }, { key: 'u-2' })).worker, first.get('u-2'), 'options.key overrides hash_key');
    assert.equal((await codeOf(work(s.master, 'ch', { ms: 0 }))).code, 'HSU_ERR_HASH_KEY_MISSING');

    await s.master.stopWorker('ch-thread');
    const without = await owners();
    const moved = keys.filter((key) => without.get(key) !== first.get(key));
    const owned = keys.filter((key) => first.get(key) === 'ch-thread');
    assert.deepEqual(moved, owned, 'exactly the stopped replica’s keys moved, no other');
    assert.ok(moved.length / keys.length < 0.47, `moved fraction ${moved.length / keys.length}`);
    assert.ok(moved.every((key) => without.get(key) !== 'ch-thread'));
    const movedTo = count(moved.map((key) => without.get(key) as string));
    t.diagnostic(`key shares ${JSON.stringify(count(first.values()))}; moved ${moved.length}/${keys.length} keys, to ${JSON.stringify(movedTo)}`);
    assert.equal(Object.keys(movedTo).length, 2, `its keys spread over both survivors: ${JSON.stringify(movedTo)}`);

    await s.master.startWorker('ch-thread');
    assert.deepEqual(await owners(), first, 'back: every key is owned as before');
  });
});
