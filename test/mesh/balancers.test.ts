// Every balancer: distribution over many picks within a stated tolerance, health-awareness, coded
// errors, consistent-hashing movement measured when replicas leave and join, config refusals.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BALANCER_STRATEGIES, MemoryRegistry, createBalancer, type Balancer, type ServiceInstance } from '../../src/mesh/index.js';
import { instance, issuePaths, tally, thrown } from './helpers.js';

function instances(count: number, extra: (i: number) => Partial<ServiceInstance> = () => ({})): ServiceInstance[] {
  const registry = new MemoryRegistry();
  for (let i = 0; i < count; i++) registry.register(instance(`svc#${i}`, 'svc', extra(i) as never));
  const all = [...registry.instances('svc')];
  registry.close();
  return all;
}

/** Picks `n` times, releasing each lease at once (sequential calls). */
function picks(balancer: Balancer, list: readonly ServiceInstance[], n: number, key?: (i: number) => string): Map<string, number> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const lease = balancer.pick(list, key?.(i));
    ids.push(lease.instance.id);
    lease.release();
  }
  return tally(ids);
}

function assertShares(counts: Map<string, number>, expected: Record<string, number>, total: number, tolerance: number): void {
  for (const [id, share] of Object.entries(expected)) {
    const got = (counts.get(id) ?? 0) / total;
    assert.ok(Math.abs(got - share) <= tolerance, `${id}: share ${got.toFixed(4)}, expected ${share.toFixed(4)} ± ${tolerance}`);
  }
}

void describe('distribution', () => {
  const N = 30_000;

  it('round robin: exactly equal counts, in turn', () => {
    const list = instances(3);
    const balancer = createBalancer({ strategy: 'round_robin' }, { service: 'svc' });
    const order = [0, 1, 2, 3].map(() => {
      const lease = balancer.pick(list);
      lease.release();
      return lease.instance.id;
    });
    assert.deepEqual(order, ['svc#0', 'svc#1', 'svc#2', 'svc#0']);
    const counts = picks(createBalancer({ strategy: 'round_robin' }), list, N);
    assert.deepEqual(Object.fromEntries(counts), { 'svc#0': N / 3, 'svc#1': N / 3, 'svc#2': N / 3 });
  });

  it('smooth weighted: exact shares per cycle, interleaved (5:1:1 gives a a b a c a a)', () => {
    const list = instances(3, (i) => ({ weight: [5, 1, 1][i] }));
    const balancer = createBalancer({ strategy: 'weighted' });
    const cycle: string[] = [];
    for (let i = 0; i < 7; i++) {
      const lease = balancer.pick(list);
      lease.release();
      cycle.push(lease.instance.id.slice(-1));
    }
    assert.deepEqual(cycle.join(''), '0010200', 'nginx smooth order');
    const counts = picks(balancer, list, 7 * 1_000);
    assert.deepEqual(Object.fromEntries(counts), { 'svc#0': 5_000, 'svc#1': 1_000, 'svc#2': 1_000 });
    // A cycle too long to precompute (co-prime large weights) is picked live with the same shares.
    const big = instances(3, (i) => ({ weight: [997, 991, 983][i] }));
    const total = 997 + 991 + 983;
    const live = picks(createBalancer({ strategy: 'weighted' }), big, total);
    assert.deepEqual(Object.fromEntries(live), { 'svc#0': 997, 'svc#1': 991, 'svc#2': 983 });
  });

  it('least connections: sequential calls take turns exactly', () => {
    const list = instances(4);
    const counts = picks(createBalancer({ strategy: 'least_connections' }), list, 4_000);
    assert.deepEqual([...counts.values()], [1_000, 1_000, 1_000, 1_000]);
  });

  it('random (power of two choices): each of 4 within ±2 percentage points of 25 % over 30,000 picks', () => {
    const list = instances(4);
    const counts = picks(createBalancer({ strategy: 'random' }), list, N);
    assertShares(counts, { 'svc#0': 0.25, 'svc#1': 0.25, 'svc#2': 0.25, 'svc#3': 0.25 }, N, 0.02);
  });

  it('random (power of two choices) steers away from the instance holding calls', () => {
    const list = instances(3);
    const balancer = createBalancer({ strategy: 'random' });
    // Records outlive list changes: 50 calls taken while svc#0 was alone are still in flight on it.
    const alone = list.filter((i) => i.id === 'svc#0');
    const held = Array.from({ length: 50 }, () => balancer.pick(alone));
    // Two distinct draws always include an idle instance, which wins: svc#0 is never picked.
    const counts = picks(balancer, list, 3_000);
    assert.equal(counts.get('svc#0') ?? 0, 0);
    for (const lease of held) lease.release();
    assert.equal(balancer.inFlight('svc#0'), 0);
  });

  it('consistent hashing: 10 instances × 160 points share 100,000 keys within ±30 % of 1/10 each', () => {
    const list = instances(10);
    const counts = picks(createBalancer({ strategy: 'consistent_hash' }), list, 100_000, (i) => `user-${i}`);
    for (const [id, count] of counts) assert.ok(Math.abs(count / 10_000 - 1) <= 0.3, `${id}: ${count} keys`);
    assert.equal(counts.size, 10);
  });
});

void describe('consistent hashing movement', () => {
  const KEYS = 50_000;
  const owners = (balancer: Balancer, list: readonly ServiceInstance[]): string[] =>
    Array.from({ length: KEYS }, (_, i) => {
      const lease = balancer.pick(list, `key-${i}`);
      lease.release();
      return lease.instance.id;
    });

  it('a leaving replica moves only its own keys (about 1/n), a joining one takes about 1/(n+1) and only for itself', () => {
    const all = instances(11);
    const ten = all.slice(0, 10);
    const balancer = createBalancer({ strategy: 'consistent_hash' }, { service: 'svc' });
    const before = owners(balancer, ten);
    const nine = ten.filter((i) => i.id !== 'svc#3');
    const afterLeave = owners(balancer, nine);
    const moved = before.filter((owner, k) => owner !== afterLeave[k]);
    assert.ok(moved.every((owner) => owner === 'svc#3'), 'only the leaver’s keys moved');
    const leaveShare = moved.length / KEYS;
    assert.ok(leaveShare > 0.1 * 0.6 && leaveShare < 0.1 * 1.4, `moved ${(leaveShare * 100).toFixed(2)} % on leave, expected about 10 %`);

    const afterJoin = owners(balancer, all);
    const joined = before.filter((owner, k) => owner !== afterJoin[k]);
    assert.ok(afterJoin.every((owner, k) => owner === before[k] || owner === 'svc#10'), 'keys moved only to the joiner');
    const joinShare = joined.length / KEYS;
    assert.ok(joinShare > (1 / 11) * 0.6 && joinShare < (1 / 11) * 1.4, `moved ${(joinShare * 100).toFixed(2)} % on join, expected about 9.1 %`);

    // An unhealthy replica is a temporary leave: its keys go elsewhere and come back with it.
    const sick = ten.map((i) => (i.id === 'svc#5' ? { ...i, health: 'unhealthy' as const } : i));
    const whileSick = owners(balancer, sick);
    assert.ok(whileSick.every((owner, k) => owner !== 'svc#5' && (owner === before[k] || before[k] === 'svc#5')));
    assert.deepEqual(owners(balancer, ten), before, 'recovered: every key is back where it was');
  });

  it('keys are read from options.key or the configured hash_key path, or refused with HASH_KEY_MISSING', () => {
    const list = instances(3);
    const balancer = createBalancer({ strategy: 'consistent_hash', virtual_nodes: 40 });
    assert.equal(balancer.needsKey, true);
    const error = thrown(() => balancer.pick(list));
    assert.equal(error.code, 'HSU_ERR_HASH_KEY_MISSING');
    assert.equal(balancer.stats().picks, 0, 'a refused pick takes no slot');
  });
});

void describe('health awareness and coded errors', () => {
  for (const strategy of BALANCER_STRATEGIES) {
    it(`${strategy}: never picks an unhealthy or weight-0 instance; none left is NO_HEALTHY_INSTANCE naming the service`, () => {
      const list = instances(5, (i) => (i === 1 ? { health: 'unhealthy' } : i === 3 ? { weight: 0 } : i === 4 ? { health: 'unknown' } : {}));
      const balancer = createBalancer({ strategy }, { service: 'orders' });
      const counts = picks(balancer, list, 2_000, (i) => `k${i}`);
      assert.deepEqual([...counts.keys()].sort(), ['svc#0', 'svc#2']);
      const none = thrown(() => balancer.pick(list.filter((i) => i.id === 'svc#1'), 'k'));
      assert.equal(none.code, 'HSU_ERR_NO_HEALTHY_INSTANCE');
      assert.deepEqual(none.context, { service: 'orders', instances: 1, healthy: 0 });
      assert.equal(thrown(() => balancer.pick([], 'k')).code, 'HSU_ERR_NO_HEALTHY_INSTANCE');
    });
  }

  it('stats count picks, in-flight and errors per instance; a retry avoids the instances it failed on', () => {
    const list = instances(3);
    const untracked = createBalancer({ strategy: 'round_robin' });
    assert.equal(untracked.tracksInFlight, false);
    untracked.pick(list);
    assert.equal(untracked.stats().in_flight, 0, 'round robin counts in-flight calls only when asked');
    const balancer = createBalancer({ strategy: 'round_robin', track_in_flight: true }, { service: 'svc' });
    const a = balancer.pick(list);
    const b = balancer.pick(list);
    b.release(true);
    const again = balancer.pick(list, undefined, ['svc#2', 'svc#0']);
    assert.equal(again.instance.id, 'svc#1', 'steered around the failed ones');
    again.release();
    const stats = balancer.stats();
    assert.equal(stats.picks, 3);
    assert.equal(stats.in_flight, 1);
    assert.equal(stats.errors, 1);
    assert.deepEqual(stats.instances.find((i) => i.id === 'svc#0'), { id: 'svc#0', picks: 1, in_flight: 1, errors: 0 });
    a.release();
    // An instance that left with a call in flight is forgotten once that call ends.
    const held = balancer.pick(list);
    balancer.pick(list.filter((i) => i.id !== held.instance.id)).release();
    assert.ok(balancer.stats().instances.some((i) => i.id === held.instance.id));
    held.release();
    assert.ok(!balancer.stats().instances.some((i) => i.id === held.instance.id));
  });
});

void describe('balancer config', () => {
  it('refuses nonsense with located messages', () => {
    const unknown = thrown(() => createBalancer({ strategy: 'fastest' } as never, { where: 'services.api.balancer' }));
    assert.equal(unknown.code, 'HSU_ERR_CONFIG_INVALID');
    assert.deepEqual(issuePaths(unknown), ['services.api.balancer.strategy']);
    assert.match(unknown.message, /round_robin/);
    const misplaced = thrown(() => createBalancer({ strategy: 'round_robin', hash_key: 'id' } as never));
    assert.deepEqual(issuePaths(misplaced), ['balancer.hash_key']);
    const nodes = thrown(() => createBalancer({ strategy: 'consistent_hash', virtual_nodes: 0 }));
    assert.deepEqual(issuePaths(nodes), ['balancer.virtual_nodes']);
    const path = thrown(() => createBalancer({ strategy: 'consistent_hash', hash_key: 'user..id' }));
    assert.deepEqual(issuePaths(path), ['balancer.hash_key']);
  });
});
