// Remote calls between two cluster members in this process, over a real nats-server: errors keep
// their codes, deadlines and aborts reach the remote side (its call is aborted), trace headers are
// carried, payloads over max_payload fail at once with a coded error (both ways), a node without a
// responder is CLUSTER_NODE_UNREACHABLE, and with NATS gone remote calls fail fast while local ones go on.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Cluster } from '../../src/cluster/index.js';
import { hsuError, isHsuError } from '../../src/errors.js';
import type { CallRequestOptions, ServiceInstance } from '../../src/mesh/index.js';
import { clusterBlock, until } from './helpers.js';
import { NatsServer } from './nats-server.js';
import { forceGc } from '../helpers/gc.js';

const MAX_PAYLOAD = 64 * 1024;

interface Seen {
  readonly aborted: unknown[];
  readonly headers: Record<string, string>[];
}

function serving(seen: Seen): (id: string, action: string, input: unknown, options: CallRequestOptions) => Promise<unknown> {
  return (id, action, input, options) => {
    if (action === 'echo') return Promise.resolve({ id, input, timeout: options.timeout });
    if (action === 'big') return Promise.resolve(new Uint8Array(Number(input)));
    if (action === 'fail') return Promise.reject(hsuError('ACTION_NOT_FOUND', 'no such action', { action }));
    if (action === 'hang') {
      return new Promise((_, reject) => {
        options.signal?.addEventListener('abort', () => {
          seen.aborted.push(options.signal?.reason);
          reject(options.signal?.reason as Error);
        });
      });
    }
    return Promise.reject(new Error(`unexpected ${action}`));
  };
}

void describe('remote calls', () => {
  let server: NatsServer;
  let a: Cluster;
  let b: Cluster;
  const seen: Seen = { aborted: [], headers: [] };
  let remote: ServiceInstance;

  before(async () => {
    server = await NatsServer.start({ max_payload: MAX_PAYLOAD });
    a = await Cluster.start(clusterBlock(server.url, 'a'), { call: serving(seen), with_trace: (headers, run) => (seen.headers.push(headers), run()) });
    b = await Cluster.start(clusterBlock(server.url, 'b'), { call: serving(seen), trace: () => ({ traceparent: '00-abc-def-01' }) });
    a.registry.register({ id: 'svc#0', service: 'svc', endpoint: { type: 'function', address: 'svc#0' }, health: 'healthy' });
    remote = await until('b to see a', () => b.registry.get('a/svc#0'));
  });

  after(async () => {
    await b.close();
    await a.close();
    await server.dispose();
  });

  const call = (action: string, input?: unknown, options: CallRequestOptions = {}): Promise<unknown> => b.invoke(() => Promise.reject(new Error('not local')))(remote, action, input, options);

  void it('carries values, the time left, trace headers and coded errors', async () => {
    assert.deepEqual(await call('echo', { m: new Map([[1, 'x']]) }, { timeout: 4_000 }), { id: 'svc#0', input: { m: new Map([[1, 'x']]) }, timeout: 4_000 });
    assert.deepEqual(seen.headers.at(-1), { traceparent: '00-abc-def-01' });
    await assert.rejects(call('fail'), (err: unknown) => isHsuError(err, 'ACTION_NOT_FOUND') && (err as unknown as { context: { action: string } }).context.action === 'fail');
    await assert.rejects(call('echo', { f: () => 1 }), (err: unknown) => isHsuError(err, 'CALL_PAYLOAD'));
  });

  void it('a deadline or an abort ends the remote call too', async () => {
    await assert.rejects(call('hang', undefined, { timeout: 200 }), (err: unknown) => isHsuError(err, 'CALL_TIMEOUT'));
    await until('the remote call to be aborted', () => seen.aborted.length === 1);
    const controller = new AbortController();
    const pending = call('hang', undefined, { signal: controller.signal });
    await until('the call to reach a', () => a.responder.inFlight === 1);
    controller.abort(hsuError('CALL_ABORTED', 'caller gave up'));
    await assert.rejects(pending, (err: unknown) => isHsuError(err, 'CALL_ABORTED'));
    await until('the remote call to be aborted', () => seen.aborted.length === 2);
    assert.ok(isHsuError(seen.aborted[1], 'CALL_ABORTED'));
    assert.equal(b.invoker.inFlight, 0);
  });

  void it('too large for the server: a coded error at once, in either direction', async () => {
    await assert.rejects(call('echo', new Uint8Array(MAX_PAYLOAD + 1)), (err: unknown) => isHsuError(err, 'CLUSTER_PAYLOAD_TOO_LARGE') && (err as unknown as { context: { max_payload: number } }).context.max_payload === MAX_PAYLOAD);
    await assert.rejects(call('big', MAX_PAYLOAD + 1), (err: unknown) => isHsuError(err, 'CLUSTER_PAYLOAD_TOO_LARGE'));
    assert.deepEqual(((await call('big', 1000)) as Uint8Array).length, 1000, 'the connection is still good');
  });

  void it('a node without a responder is unreachable, and is skipped until it refreshes', async () => {
    b.registry.view.register({ id: 'ghost/svc#0', service: 'svc', node: 'ghost', endpoint: { type: 'function', address: 'svc#0' }, health: 'healthy', ttl: 60_000 });
    const ghost = b.registry.get('ghost/svc#0') as ServiceInstance;
    await assert.rejects(b.invoke(() => Promise.resolve())(ghost, 'echo', 1, {}), (err: unknown) => isHsuError(err, 'CLUSTER_NODE_UNREACHABLE'));
    assert.deepEqual(b.registry.healthy('svc').map((i) => i.id), ['a/svc#0'], 'the suspect node is not picked');
    b.registry.view.deregister('ghost/svc#0');
  });

  void it('soak: 20,000 remote calls, 50 in flight, stay within a heap bound and leave nothing pending', async () => {
    const run = async (count: number): Promise<void> => {
      let next = 0;
      await Promise.all(Array.from({ length: 50 }, async () => {
        while (next++ < count) await call('echo', { n: next, text: 'x'.repeat(64) });
      }));
    };
    await run(2_000);
    forceGc();
    const before = process.memoryUsage().heapUsed;
    await run(20_000);
    forceGc();
    const grown = process.memoryUsage().heapUsed - before;
    assert.ok(grown < 32 * 1024 * 1024, `heap grew ${Math.round(grown / 1024)} KiB over 20,000 calls`);
    assert.equal(b.invoker.inFlight, 0);
    assert.equal(a.responder.inFlight, 0);
  });

  void it('NATS gone: remote calls fail fast with CLUSTER_UNAVAILABLE, local ones go on; back: remote calls resume', async () => {
    await server.stop(true);
    await until('b to notice', () => b.connection.status === 'disconnected');
    const started = Date.now();
    await assert.rejects(call('echo', 1), (err: unknown) => isHsuError(err, 'CLUSTER_UNAVAILABLE'));
    assert.ok(Date.now() - started < 1_000, 'failed fast, not after a timeout');
    assert.equal(await b.invoke(() => Promise.resolve('local'))({ ...remote, node: 'b' }, 'echo', 1, {}), 'local');
    await server.launch();
    await until('b to reconnect', () => b.connection.status === 'connected');
    await until('remote calls to resume', () => call('echo', 2).then(() => true, () => false));
  });
});
