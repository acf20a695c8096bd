/**
 * The heartbeat thread: its own event loop and its own NATS connection, so a master whose main
 * thread is busy (a CPU-bound module, a long GC) is still seen alive. It holds the node-name lease
 * and writes this master's instance records, refreshing both every interval; the main thread
 * sends it every change. A main thread silent for `stall_limit` is no longer vouched for: its
 * records are left to expire (the lease is kept, so the name stays this master's).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { KV } from '@nats-io/kv';
import { isBucketMissing, openBucket } from '../buckets.js';
import { ClusterConnection } from '../connection.js';
import { clusterNames } from '../keys.js';
import { RECORD_VERSION, type NodeRecord } from '../records.js';
import { NodeLease } from './node-lease.js';
import type { FromHeartbeat, HeartbeatSetup, LeaseState, ToHeartbeat } from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('heartbeat-thread.js runs as a worker thread');
const setup = workerData as HeartbeatSetup;
const { origin, interval } = setup;
const names = clusterNames(setup.settings.name);
const entries = new Map<string, string>();
const connection = new ClusterConnection(setup.settings, 'heartbeat');

let registry: KV | undefined;
let lease: NodeLease | undefined;
let leaseState: LeaseState = 'pending';
let lastPingAt = Date.now();
let lastPongAt = Date.now();
let loopLag = 0;
let ticking = false;
let stopping = false;
let joining: Promise<void> | undefined;
/** A bucket was deleted under this master: the next join creates both again and claims the name afresh. */
let bucketsLost = false;
/** Records are published only while the main thread's responder listens, so a listed instance is answered. */
let serving = false;

function post(message: FromHeartbeat): void {
  port?.postMessage(message);
}

function report(err: unknown): void {
  if (isBucketMissing(err)) bucketsLost = true;
  post({ t: 'error', message: (err as Error).message ?? String(err), ...(typeof (err as { code?: unknown }).code === 'string' ? { code: (err as { code: string }).code } : {}) });
}

function nodeRecord(): NodeRecord {
  return { v: RECORD_VERSION, node: origin.node, cluster: setup.settings.name, host: origin.host, pid: origin.pid, session: origin.session, started_at: setup.started_at, heartbeat_at: Date.now(), loop_lag_ms: loopLag, ttl: origin.ttl };
}

function stalled(): boolean {
  return Date.now() - lastPongAt > setup.stall_limit;
}

function setLease(state: LeaseState, extra: Partial<Extract<FromHeartbeat, { t: 'lease' }>> = {}): void {
  if (state === leaseState && state !== 'refused') return;
  leaseState = state;
  post({ t: 'lease', state, ...extra });
}

/** One join at a time, whoever asks (a reconnect, a tick). */
function rejoin(): Promise<void> {
  joining ??= join().finally(() => {
    joining = undefined;
  });
  return joining;
}

/** Buckets, lease, then every record: on the first connect and after every reconnect. */
async function join(): Promise<void> {
  const nc = connection.nc;
  if (nc === undefined) return;
  const recreate = bucketsLost;
  bucketsLost = false;
  try {
    registry = await openBucket(nc, names.registryBucket, { ttl: origin.ttl });
    const nodes = await openBucket(nc, names.nodesBucket, { ttl: origin.ttl });
    // A lease on a deleted bucket holds nothing: the name is claimed again in the new one (refused
    // if another master took it meanwhile). The new lease replaces the old only once it is held,
    // so a claim that fails leaves the lease state as it was for the next try.
    const current = recreate || lease === undefined ? new NodeLease(nodes, origin.node, nodeRecord) : lease;
    if (!current.held) {
      const outcome = await current.acquire();
      lease = current;
      if (outcome.state === 'refused') {
        setLease('refused', { holder: outcome.holder });
        return;
      }
      setLease('acquired', { took_over: outcome.took_over });
      await dropStaleRecords(registry);
    } else if (await current.refresh()) {
      setLease('acquired'); // still ours: whatever a tick concluded meanwhile, say so again
    } else {
      setLease('lost');
      return;
    }
    await publishAll();
  } catch (err) {
    if (recreate) bucketsLost = true; // not done: the next tick tries again
    throw err;
  }
}

/**
 * Records of this node that a predecessor left and this master does not serve. A courtesy (they
 * expire by the bucket's TTL anyway), so the listing is bounded by a third of the TTL: a KV key
 * listing can fail to end while entries expire under it (nats-server#3481), and an unbounded one
 * held the join, and with it every lease refresh and record publish, until lease and records
 * expired (a cluster test, twice in loaded or parallel runs).
 */
async function dropStaleRecords(kv: KV): Promise<void> {
  const stale: string[] = [];
  const keys = await kv.keys(names.nodeInstances(origin.node));
  const boundMs = Math.max(100, origin.ttl / 3);
  let cut = false;
  const timer = setTimeout(() => {
    cut = true;
    keys.stop();
  }, boundMs);
  try {
    for await (const key of keys) if (!entries.has(key)) stale.push(key);
  } finally {
    clearTimeout(timer);
  }
  if (cut) post({ t: 'error', message: `listing this node's records left by a predecessor did not end within ${boundMs} ms; they expire by the TTL` });
  await Promise.all(stale.map((key) => kv.delete(key)));
}

async function publishAll(): Promise<void> {
  const kv = registry;
  if (kv === undefined || !serving || leaseState !== 'acquired' || connection.nc === undefined || stalled()) return;
  await Promise.all([...entries].map(([key, value]) => kv.put(key, value)));
}

async function tick(): Promise<void> {
  if (ticking || stopping) return;
  ticking = true;
  try {
    // The main thread answers pings from its event loop: an unanswered ping measures its lag.
    loopLag = lastPongAt >= lastPingAt ? loopLag : Date.now() - lastPingAt;
    lastPingAt = Date.now();
    post({ t: 'ping', at: lastPingAt });
    if (connection.nc === undefined) return;
    if (joining !== undefined) return; // the join refreshes the lease and publishes every record
    if (bucketsLost) {
      await rejoin();
    } else if (leaseState === 'acquired' && lease !== undefined) {
      if (!(await lease.refresh())) {
        setLease('lost');
        return;
      }
      await publishAll();
    } else {
      await rejoin();
    }
    post({ t: 'beat', at: Date.now(), entries: entries.size, loop_lag_ms: loopLag, stalled: stalled() });
  } catch (err) {
    report(err);
  } finally {
    ticking = false;
  }
}

async function stop(): Promise<void> {
  stopping = true;
  clearInterval(timer);
  try {
    const kv = registry;
    if (kv !== undefined && connection.nc !== undefined && leaseState === 'acquired') {
      await Promise.all([...entries.keys()].map((key) => kv.delete(key)));
      await lease?.release();
    }
  } catch (err) {
    report(err);
  }
  await connection.close();
  post({ t: 'stopped' });
  port?.close();
}

port.on('message', (message: ToHeartbeat) => {
  if (message.t === 'pong') {
    lastPongAt = Date.now();
    loopLag = Math.max(0, lastPongAt - message.at);
  } else if (message.t === 'put') {
    entries.set(message.key, message.value);
    const kv = registry;
    if (kv !== undefined && serving && leaseState === 'acquired' && connection.nc !== undefined) kv.put(message.key, message.value).catch(report);
  } else if (message.t === 'delete') {
    entries.delete(message.key);
    const kv = registry;
    if (kv !== undefined && leaseState === 'acquired' && connection.nc !== undefined) kv.delete(message.key).catch(report);
  } else if (message.t === 'serve') {
    serving = message.on;
    if (serving) publishAll().catch(report);
  } else if (message.t === 'stop') {
    void stop();
  }
});

connection.on((event) => {
  post({ t: 'connection', event });
  if (event.type === 'connected' || event.type === 'reconnected') rejoin().catch(report);
});
const timer = setInterval(() => void tick(), interval);
connection.start().catch(report);
