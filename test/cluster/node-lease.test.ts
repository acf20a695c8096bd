// The node-name lease over a real nats-server: claimed once, refused to another live session,
// claimed again after it expired, and never reported lost by a refresh that overlaps another one
// (the heartbeat's tick racing a rejoin after NATS came back: the race that once left a master
// holding its name while publishing nothing).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { KV } from '@nats-io/kv';
import { openBucket } from '../../src/cluster/buckets.js';
import { NodeLease } from '../../src/cluster/heartbeat/node-lease.js';
import { RECORD_VERSION, type NodeRecord } from '../../src/cluster/records.js';
import { sleep, until } from './helpers.js';
import { NatsServer } from './nats-server.js';

const TTL = 300;

function recordOf(session: string, pid = process.pid): () => NodeRecord {
  return () => ({ v: RECORD_VERSION, node: 'n1', cluster: 'lease', host: 'this-host', pid, session, started_at: 1, heartbeat_at: Date.now(), loop_lag_ms: 0, ttl: TTL });
}

async function holderSession(kv: KV): Promise<string | undefined> {
  const entry = await kv.get('n1');
  return entry?.operation === 'PUT' ? entry.json<NodeRecord>().session : undefined;
}

/** The real bucket, its `create` held while the gate is shut: a claim's window stays open until the test opens it. */
function gated(real: KV): { kv: KV; shut: () => void; open: () => void } {
  let gate: Promise<void> = Promise.resolve();
  let release: () => void = () => undefined;
  const kv = new Proxy(real, {
    get(target, key) {
      if (key === 'create') {
        return async (...args: Parameters<KV['create']>) => {
          await gate;
          return target.create(...args);
        };
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { kv, shut: () => (gate = new Promise((resolve) => (release = resolve))), open: () => release() };
}

void describe('node lease', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let bucket = 0;
  const freshBucket = (): Promise<KV> => openBucket(nc, `lease_${bucket++}`, { ttl: TTL });

  before(async () => {
    server = await NatsServer.start();
    nc = await connect({ servers: server.url });
  });
  after(async () => {
    await nc.close();
    await server.dispose();
  });

  void it('is refused to a second live session and claimed by it once the first lets it expire', async () => {
    const kv = await freshBucket();
    const first = new NodeLease(kv, 'n1', recordOf(randomUUID()));
    // Another live process of this host (our own pid: alive), so not a dead predecessor.
    const secondSession = randomUUID();
    const second = new NodeLease(kv, 'n1', recordOf(secondSession));
    assert.deepEqual(await first.acquire(), { state: 'acquired', took_over: false });
    const refused = await second.acquire();
    assert.equal(refused.state, 'refused');
    assert.equal(second.held, false);
    await sleep(TTL * 2); // first stops refreshing: the bucket's max age removes its key
    assert.deepEqual(await second.acquire(), { state: 'acquired', took_over: false });
    assert.equal(await holderSession(kv), secondSession);
    assert.equal(await first.refresh(), false, 'the name is another session\'s now');
    assert.equal(first.held, false);
  });

  void it('a refresh started while another one re-claims the expired name waits for it and stays held', async () => {
    const real = await freshBucket();
    const { kv, shut, open } = gated(real);
    const session = randomUUID();
    const lease = new NodeLease(kv, 'n1', recordOf(session));
    await lease.acquire();
    await sleep(TTL * 2); // cut off from NATS for longer than the TTL: the key expired
    shut();
    const first = lease.refresh();
    // The first refresh found the key gone and waits at the gate to claim it again: the race's window.
    await until('the first refresh to start claiming the name again', () => !lease.held, 5_000);
    const second = lease.refresh();
    open();
    assert.deepEqual(await Promise.all([first, second]), [true, true]);
    assert.equal(lease.held, true);
    assert.equal(await holderSession(real), session);
    assert.equal(await lease.refresh(), true, 'and refreshes on from the revision it holds');
  });

  void it('release gives the name back at once, and only once', async () => {
    const kv = await freshBucket();
    const lease = new NodeLease(kv, 'n1', recordOf(randomUUID()));
    await lease.acquire();
    await Promise.all([lease.release(), lease.release()]);
    assert.equal(await holderSession(kv), undefined);
    const next = new NodeLease(kv, 'n1', recordOf(randomUUID()));
    assert.equal((await next.acquire()).state, 'acquired');
  });
});
