// An operator deletes the cluster's KV buckets under running masters (`nats kv rm`): each
// master's heartbeat re-creates them and publishes its records again, and each master's watch of
// them, which the NATS client leaves waiting on the deleted stream, is started again on the new
// one, so the masters see each other again without a restart. Real nats-server, members in this process.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { Cluster } from '../../src/cluster/index.js';
import { clusterBlock, until } from './helpers.js';
import { NatsServer } from './nats-server.js';

const noCall = (): Promise<unknown> => Promise.resolve(undefined);
const endpoint = { type: 'function', address: 'x' } as const;

void describe('cluster buckets deleted under running masters', () => {
  const closing: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closing.reverse()) await close();
  });

  for (const bucket of ['registry', 'nodes', 'both'] as const) {
    it(`the ${bucket === 'both' ? 'registry and nodes buckets' : `${bucket} bucket`} deleted: re-created, records published again, each master sees the other`, async () => {
      const server = await NatsServer.start();
      closing.push(() => server.dispose());
      const a = await Cluster.start(clusterBlock(server.url, 'a'), { call: noCall });
      const b = await Cluster.start(clusterBlock(server.url, 'b'), { call: noCall });
      closing.push(() => a.close(), () => b.close());
      a.registry.register({ id: 'api#0', service: 'api', endpoint, health: 'healthy' });
      b.registry.register({ id: 'api#0', service: 'api', endpoint, health: 'healthy' });
      await until('a and b to see each other', () => a.registry.get('b/api#0') !== undefined && b.registry.get('a/api#0') !== undefined);
      const nc = await connect({ servers: server.url });
      closing.push(() => nc.close());
      const kvm = new Kvm(nc);
      for (const name of bucket === 'both' ? ['registry', 'nodes'] : [bucket]) await (await kvm.open(`hsu_test_${name}`)).destroy();
      // Registered after the deletion: only a master that follows the new bucket sees them.
      a.registry.register({ id: 'late#0', service: 'late', endpoint, health: 'healthy' });
      b.registry.register({ id: 'late#0', service: 'late', endpoint, health: 'healthy' });
      await until('b to see what a registered after the deletion', () => b.registry.get('a/late#0')).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}; a: ${JSON.stringify(a.diagnostics())}; b: ${JSON.stringify(b.diagnostics())}`);
      });
      await until('a to see what b registered after the deletion', () => a.registry.get('b/late#0')).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}; a: ${JSON.stringify(a.diagnostics())}; b: ${JSON.stringify(b.diagnostics())}`);
      });
      await until('the buckets to be back', async () => (await Promise.all(['registry', 'nodes'].map((name) => kvm.open(`hsu_test_${name}`).then((kv) => kv.status()).then(() => true, () => false)))).every(Boolean));
      const registry = await kvm.open('hsu_test_registry');
      const keys: string[] = [];
      for await (const key of await registry.keys()) keys.push(key);
      assert.ok(keys.some((k) => k.startsWith('test.a.')) && keys.some((k) => k.startsWith('test.b.')), `both masters' records are back: ${keys.join(', ')}`);
      const nodes = await kvm.open('hsu_test_nodes');
      for (const [node, member] of [['a', a], ['b', b]] as const) {
        await until(`${node}'s lease to be held again`, async () => (await nodes.get(node))?.operation === 'PUT').catch((err: unknown) => {
          throw new Error(`${(err as Error).message}; ${node}: lease ${member.view().lease}, ${JSON.stringify(member.diagnostics())}`);
        });
      }
      await until('a to list b as a live node again', () => a.view().nodes.find((n) => n.node === 'b')?.instances.length === 2);
      for (const [name, member] of [['a', a], ['b', b]] as const) {
        await until(`${name}'s watch of the new bucket`, () => (member.diagnostics().watch_restarts as number) >= (bucket === 'both' ? 2 : 1));
      }
      assert.deepEqual([a, b].map((member) => member.view().lease), ['acquired', 'acquired']);
    });
  }
});
