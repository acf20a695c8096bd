/**
 * Does a busy master get declared gone? A member in a child process runs a CPU-bound loop on its
 * main thread for BURN_MS (longer than the TTL); this process watches the cluster bucket and
 * records when the member's record was refreshed (by the heartbeat thread) and when a key
 * refreshed by a main-loop timer in the same process was. The largest gap of each against the TTL.
 */
import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { NatsServer } from '../test/cluster/nats-server.js';
import { fixture, note, verdict, type Row } from './common.js';
import { fmtMs } from './stats.js';

const TTL = 3_000;
const INTERVAL = 500;
const BURN_MS = 6_000;

function maxGap(times: readonly number[], from: number, to: number): number {
  const inside = [from, ...times.filter((t) => t > from && t < to), to];
  let gap = 0;
  for (let i = 1; i < inside.length; i++) gap = Math.max(gap, (inside[i] as number) - (inside[i - 1] as number));
  return gap;
}

export async function benchHeartbeat(): Promise<Row[]> {
  note(`cluster: heartbeat gaps while the main thread spins ${BURN_MS} ms (ttl ${TTL} ms, interval ${INTERVAL} ms)...`);
  const server = await NatsServer.start();
  const { connect } = await import('@nats-io/transport-node');
  const { Kvm } = await import('@nats-io/kv');
  const nc = await connect({ servers: server.url });
  const child = fork(fixture('cluster-busy.mjs'), [server.url, String(TTL), String(INTERVAL)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const reply = (key: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the busy member did not answer '${key}' in 30 s`)), 30_000);
      child.on('message', (m: Record<string, unknown>) => {
        if (m[key] !== true) return;
        clearTimeout(timer);
        resolve();
      });
    });
  try {
    await reply('ready');
    const kvm = new Kvm(nc);
    const thread: number[] = [];
    const mainLoop: number[] = [];
    const registry = await kvm.open('hsu_hb_registry');
    const mainKv = await kvm.create('hb_mainloop', { history: 1 });
    const w1 = await registry.watch({ key: 'hb.busy.>' });
    const w2 = await mainKv.watch({ key: 'beat' });
    void (async () => { for await (const _ of w1) thread.push(performance.now()); })();
    void (async () => { for await (const _ of w2) mainLoop.push(performance.now()); })();
    await new Promise((resolve) => setTimeout(resolve, 2 * INTERVAL));
    const from = performance.now();
    child.send({ burn: BURN_MS });
    await reply('burned');
    const to = performance.now();
    await new Promise((resolve) => setTimeout(resolve, INTERVAL));
    w1.stop();
    w2.stop();
    child.send({ stop: true });
    await reply('stopped');
    const threadGap = maxGap(thread, from, to);
    const loopGap = maxGap(mainLoop, from, to);
    note(`  largest gap: heartbeat thread ${fmtMs(threadGap)}, main-loop timer ${fmtMs(loopGap)} (ttl ${TTL} ms)`);
    return [
      { name: `cluster heartbeat: largest gap, thread, main loop busy ${BURN_MS / 1000} s`, value: fmtMs(threadGap), spread: '', floor: `${fmtMs(INTERVAL)} interval`, ratio: '', target: `< ttl (${TTL} ms)`, status: verdict(threadGap < TTL) },
      { name: `cluster heartbeat: largest gap, main-loop timer (what a loop heartbeat would do)`, value: fmtMs(loopGap), spread: '', floor: `${fmtMs(INTERVAL)} interval`, ratio: '', target: 'report', status: 'info' },
    ];
  } finally {
    child.kill('SIGKILL');
    await nc.close();
    await server.dispose();
  }
}
