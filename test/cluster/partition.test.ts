// A split of one master from the others, for real: master c runs in a network namespace of its
// own, joined to the host by a veth pair, and the link is taken down (packets dropped, no FIN, no
// RST: a cut cable). Needs root and `ip netns` (iproute2); skipped, saying so, where they are
// missing. Every address used is on the namespace's own veth pair.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { ClusterView } from '../../src/cluster/index.js';
import { clusterBlock, NodeProcess, until } from './helpers.js';
import { NatsServer } from './nats-server.js';

const TTL = 1_000;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

function namespacesWork(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  const probe = `hsuprobe${randomBytes(3).toString('hex')}`;
  try {
    ip('netns', 'add', probe);
    ip('netns', 'del', probe);
    return undefined;
  } catch (err) {
    return `ip netns unavailable: ${(err as Error).message.split('\n')[0]}`;
  }
}

const unavailable = namespacesWork();

void describe('a master split from the others (network namespace)', { skip: unavailable }, () => {
  const tag = randomBytes(3).toString('hex');
  const ns = `hsu${tag}`;
  const hostSide = `hv${tag}h`;
  const nsSide = `hv${tag}c`;
  const subnet = 200 + (parseInt(tag.slice(0, 2), 16) % 50);
  const hostAddress = `10.231.${subnet}.1`;
  let server: NatsServer;
  const nodes = new Map<string, NodeProcess>();
  const node = (name: string): NodeProcess => nodes.get(name) as NodeProcess;
  const seenBy = async (from: string): Promise<Set<string>> => new Set((await node(from).request<ClusterView>({ op: 'view' })).nodes.filter((n) => n.instances.length > 0).map((n) => n.node));

  before(async () => {
    ip('netns', 'add', ns);
    ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', nsSide);
    ip('link', 'set', nsSide, 'netns', ns);
    ip('addr', 'add', `${hostAddress}/30`, 'dev', hostSide);
    ip('link', 'set', hostSide, 'up');
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `10.231.${subnet}.2/30`, 'dev', nsSide);
    ip('netns', 'exec', ns, 'ip', 'link', 'set', nsSide, 'up');
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    server = await NatsServer.start({ host: hostAddress });
    for (const name of ['a', 'b']) nodes.set(name, await NodeProcess.start({ cluster: clusterBlock(server.url, name, { ttl: TTL, heartbeat_interval: 200, prefer_local: false }), replicas: 1 }));
    nodes.set('c', await NodeProcess.start({ cluster: clusterBlock(server.url, 'c', { ttl: TTL, heartbeat_interval: 200, prefer_local: false }), replicas: 1 }, ns));
  });

  after(async () => {
    for (const n of nodes.values()) await n.kill();
    await server?.dispose();
    try {
      ip('netns', 'del', ns); // takes the veth pair with it
    } catch {
      // already gone
    }
  });

  it('the others drop it within the TTL, it keeps serving locally, and it rejoins when the link is back', async () => {
    for (const from of ['a', 'b', 'c']) await until(`${from} to see all three`, async () => (await seenBy(from)).size === 3);
    ip('link', 'set', hostSide, 'down');
    for (const from of ['a', 'b']) await until(`${from} to drop c`, async () => !(await seenBy(from)).has('c'));
    // c is cut off: its own replica still answers, directly and through its router once it knows.
    assert.equal((await node('c').request<{ node: string }>({ op: 'local', target: 'echo', action: 'who' })).node, 'c');
    await until('c to notice the split', async () => (await node('c').request<ClusterView>({ op: 'view' })).connection !== 'connected');
    for (let n = 0; n < 5; n++) assert.equal((await node('c').call<{ node: string }>('echo', 'who', { n })).node, 'c');
    // a and b go on between themselves.
    const served = new Set<string>();
    for (let n = 0; n < 6; n++) served.add((await node('a').call<{ node: string }>('echo', 'who', { n })).node);
    assert.deepEqual([...served].sort(), ['a', 'b'], 'balanced over the two that can reach each other');
    ip('link', 'set', hostSide, 'up');
    for (const from of ['a', 'b', 'c']) await until(`${from} to see all three again`, async () => (await seenBy(from)).size === 3, 30_000);
  });
});
