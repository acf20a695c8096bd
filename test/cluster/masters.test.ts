// Three masters as separate processes on one real nats-server: services visible across masters,
// calls balanced across hosts, a CPU-bound main loop that does not get its master declared gone,
// `kill -9` of a master mid-load (its services leave within the TTL, idempotent calls re-routed,
// none failing), and NATS restarted mid-run (local calls go on, the cluster recovers).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ClusterView } from '../../src/cluster/index.js';
import { clusterBlock, NodeProcess, sleep, until } from './helpers.js';
import { NatsServer } from './nats-server.js';

const TTL = 600;
const REPLICAS = 2;

interface Served {
  node: string;
  worker: string;
}

void describe('three masters on one NATS', () => {
  let server: NatsServer;
  const nodes = new Map<string, NodeProcess>();
  const node = (name: string): NodeProcess => nodes.get(name) as NodeProcess;

  before(async () => {
    server = await NatsServer.start();
    for (const name of ['a', 'b', 'c']) {
      nodes.set(name, await NodeProcess.start({ cluster: clusterBlock(server.url, name, { ttl: TTL, prefer_local: false }), replicas: REPLICAS }));
    }
  });

  after(async () => {
    for (const n of nodes.values()) await n.kill();
    await server.dispose();
  });

  const instancesSeen = async (from: string): Promise<Map<string, number>> => {
    const view = await node(from).request<ClusterView>({ op: 'view' });
    return new Map(view.nodes.map((n) => [n.node, n.instances.filter((i) => i.health === 'healthy').length]));
  };

  void it('every master sees every master and its services', async () => {
    for (const from of ['a', 'b', 'c']) {
      await until(`${from} to see 3 nodes with ${REPLICAS} replicas each`, async () => {
        const seen = await instancesSeen(from);
        return ['a', 'b', 'c'].every((n) => seen.get(n) === REPLICAS);
      });
    }
    const view = await node('a').request<ClusterView>({ op: 'view' });
    assert.equal(view.connection, 'connected');
    assert.equal(view.lease, 'acquired');
    assert.deepEqual(view.nodes.map((n) => [n.node, n.self]), [['a', true], ['b', false], ['c', false]]);
    assert.deepEqual(view.nodes[1]?.instances.map((i) => i.id), ['echo#0', 'echo#1']);
  });

  void it('balances calls across hosts (round robin over every replica in the cluster)', async () => {
    const served = new Map<string, number>();
    for (let n = 0; n < 60; n++) {
      const answer = await node('a').call<Served>('echo', 'who', { n });
      served.set(answer.node, (served.get(answer.node) ?? 0) + 1);
    }
    assert.deepEqual([...served.entries()].sort(), [['a', 20], ['b', 20], ['c', 20]]);
    // Values that only structured clone carries arrive intact from another host.
    const input = { at: new Date(5), tags: new Set(['x']), big: 2n ** 70n, bytes: new Uint8Array([1, 2]) };
    const remote = (await instancesSeen('b')).has('a');
    assert.ok(remote);
    for (let i = 0; i < 6; i++) assert.deepEqual(await node('b').call('echo', 'echo', input), input);
    // An action's own error comes back with its code from whichever host ran it.
    for (let i = 0; i < 6; i++) await assert.rejects(node('c').call('echo', 'fail'), (err: Error & { code?: string }) => err.code === 'E_TOLD');
  });

  void it('a master whose event loop is busy for 3 TTLs is not declared gone', async () => {
    const since = Date.now();
    // An inline module's synchronous loop blocks c's main thread; its heartbeat runs in a thread of its own.
    await node('c').request({ op: 'local', target: 'echo#0', action: 'burn', input: { ms: 3 * TTL } });
    for (const from of ['a', 'b']) {
      const events = await node(from).request<{ type: string; node: string; at: number }[]>({ op: 'events' });
      assert.deepEqual(
        events.filter((e) => e.type === 'removed' && e.at >= since),
        [],
        `${from} dropped no instance while a main loop was busy`,
      );
    }
    const diagnostics = await node('a').request<{ cluster: { last_beat: { loop_lag_ms: number } | null } }>({ op: 'diagnostics' });
    assert.ok(diagnostics.cluster.last_beat !== null);
  });

  void it('kill -9 of a master mid-load: its services leave within the TTL and no idempotent call fails', async () => {
    let stop = false;
    let failures = 0;
    let calls = 0;
    const errors: string[] = [];
    const lanes = Array.from({ length: 8 }, async (_, lane) => {
      for (let n = 0; !stop; n++) {
        try {
          await node('a').call<Served>('echo', 'who', { n: lane * 100_000 + n, ms: 10 });
          calls++;
        } catch (err) {
          failures++;
          errors.push(`${(err as { code?: string }).code} ${(err as Error).message}`);
        }
      }
    });
    await until('calls to flow', () => calls > 50);
    const killedAt = Date.now();
    await node('c').kill();
    nodes.delete('c');
    const gone = await until('c to leave a and b', async () => {
      const [a, b] = await Promise.all([instancesSeen('a'), instancesSeen('b')]);
      return !a.has('c') && !b.has('c') ? Date.now() - killedAt : undefined;
    });
    const before = calls;
    await until('calls to go on after c left', () => calls > before + 50);
    stop = true;
    await Promise.all(lanes);
    assert.deepEqual(errors, [], 'no idempotent call failed across the kill');
    assert.equal(failures, 0);
    process.stderr.write(`# c's services left the other masters ${gone} ms after kill -9 (ttl ${TTL} ms)\n`);
    const diagnostics = await node('a').request<{ router: { resilience: { retry: { retries: number } } }[] }>({ op: 'diagnostics' });
    assert.ok((diagnostics.router[0]?.resilience.retry.retries ?? 0) >= 1, 'calls that were on c were retried elsewhere');
  });

  void it('NATS restarted mid-run: local calls go on, the cluster recovers and balances again', async () => {
    await server.stop(true);
    await until('a to notice', async () => (await node('a').request<ClusterView>({ op: 'view' })).connection !== 'connected');
    // With NATS away, a calls its own replicas: none fails.
    for (let n = 0; n < 20; n++) assert.equal((await node('a').call<Served>('echo', 'who', { n })).node, 'a');
    await sleep(TTL);
    await server.launch();
    for (const from of ['a', 'b']) {
      await until(`${from} to reconnect and see both masters again`, async () => {
        const view = await node(from).request<ClusterView>({ op: 'view' });
        const seen = new Map(view.nodes.map((n) => [n.node, n.instances.filter((i) => i.health === 'healthy').length]));
        return view.connection === 'connected' && seen.get('a') === REPLICAS && seen.get('b') === REPLICAS;
      });
    }
    const served = new Set<string>();
    for (let n = 0; n < 8; n++) served.add((await node('b').call<Served>('echo', 'who', { n })).node);
    assert.deepEqual([...served].sort(), ['a', 'b']);
  });

  void it('a clean shutdown leaves at once and leaves nothing running', async () => {
    const left = await node('b').shutdown();
    nodes.delete('b');
    assert.deepEqual(left, [], 'no handle left active in the master process');
    await until('b to leave a', async () => !(await instancesSeen('a')).has('b'));
    const events = await node('a').request<{ type: string; node: string; reason?: string }[]>({ op: 'events' });
    const lastRemovals = events.filter((e) => e.node === 'b' && e.type === 'removed').slice(-REPLICAS);
    assert.deepEqual(lastRemovals.map((e) => e.reason), ['deregistered', 'deregistered'], 'removed by its own goodbye, not by expiry');
  });
});
