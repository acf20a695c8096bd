/**
 * The cluster benchmarks (issue 12), each against its floor in the same run, on one local
 * nats-server (Debian's package, started here):
 * - calls: a remote call between two cluster members (RemoteInvoker → NATS → CallResponder →
 *   the local call), sequential and 100 in flight, against a bare NATS request/reply of the same
 *   payload (the floor; target ≥ 0.8x) and Moleculer 0.15 over the same server with its NATS
 *   transporter (the peer; target ≥ 1.3x); plus per-call latency percentiles;
 * - log: JetStream message log appends and a CommandWorker's handled/s against a bare JetStream
 *   publish and a bare ordered-consumer read of the same stream;
 * - heartbeat: the largest gap between a member's heartbeats while its main thread runs a
 *   CPU-bound loop, from the heartbeat thread and from a main-loop timer (cluster-heartbeat.ts).
 */
import moleculer from 'moleculer';
import { performance } from 'node:perf_hooks';
import { Cluster } from '../src/cluster/index.js';
import type { ServiceInstance } from '../src/mesh/index.js';
import { NatsServer } from '../test/cluster/nats-server.js';
import { note, verdict, type Row } from './common.js';
import { MODES, alternate, modeLabel, type Mode } from './mesh-compare.js';
import { fmtMs, fmtRate, fmtRatio, summarize } from './stats.js';

export { benchClusterLog } from './cluster-log.js';
export { benchHeartbeat } from './cluster-heartbeat.js';

const PAYLOAD = { id: 7, name: 'Ada', tags: ['a', 'b'] };

function rateRow(name: string, value: number, floorName: string, floor: number, minRatio?: number): Row {
  const ratio = value / floor;
  const base = { name, value: fmtRate(value), spread: '', floor: `${fmtRate(floor)} ${floorName}`, ratio: fmtRatio(ratio) };
  if (minRatio === undefined) return { ...base, target: 'report', status: 'info' };
  return { ...base, target: `≥ ${minRatio}x ${floorName}`, status: verdict(ratio >= minRatio) };
}

async function latency(op: () => Promise<unknown>, count: number): Promise<{ p50: number; p90: number; p99: number }> {
  for (let i = 0; i < 500; i++) await op();
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await op();
    samples.push(performance.now() - t);
  }
  return summarize(samples);
}

export async function benchClusterCalls(): Promise<Row[]> {
  note('cluster: remote calls (bare NATS request/reply floor, Moleculer NATS transporter peer)...');
  const server = await NatsServer.start();
  const local = (_id: string, _action: string, input: unknown): Promise<unknown> => Promise.resolve(input);
  const a = await Cluster.start({ name: 'bench', node: 'a', servers: server.url }, { call: local });
  const b = await Cluster.start({ name: 'bench', node: 'b', servers: server.url }, { call: local });
  const { connect } = await import('@nats-io/transport-node');
  const floorServer = await connect({ servers: server.url });
  const floorClient = await connect({ servers: server.url });
  floorServer.subscribe('bench.floor', {
    callback: (_err, msg) => {
      msg.respond(msg.data);
    },
  });
  const encoded = new TextEncoder().encode(JSON.stringify(PAYLOAD));
  await floorServer.flush();
  const options = { logger: false as const, transporter: { type: 'NATS' as const, options: { servers: [server.url] } }, registry: { preferLocal: false } };
  const service = new moleculer.ServiceBroker({ ...options, nodeID: 'mol-service' });
  service.createService({ name: 'svc', actions: { echo: (ctx: moleculer.Context<typeof PAYLOAD>) => ctx.params } });
  const caller = new moleculer.ServiceBroker({ ...options, nodeID: 'mol-caller' });
  const rows: Row[] = [];
  try {
    a.registry.register({ id: 'svc#0', service: 'svc', endpoint: { type: 'function', address: 'svc#0' }, health: 'healthy' });
    const deadline = Date.now() + 10_000;
    while (b.registry.get('a/svc#0') === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const remote = b.registry.get('a/svc#0') as ServiceInstance;
    const invoke = b.invoke(() => Promise.reject(new Error('not local')));
    await Promise.all([service.start(), caller.start()]);
    await caller.waitForServices('svc');
    const hsu = (): Promise<unknown> => invoke(remote, 'echo', PAYLOAD, {});
    const floor = (): Promise<unknown> => floorClient.request('bench.floor', encoded);
    const mol = (): Promise<unknown> => caller.call('svc.echo', PAYLOAD);
    for (const mode of MODES as readonly Mode[]) {
      const { floor: f, subjects } = await alternate({ op: floor, batch: 8 }, [{ op: hsu, batch: 8 }, { op: mol, batch: 8 }], mode);
      const [h, m] = subjects as [number, number];
      note(`  ${modeLabel(mode)}: bare NATS request ${fmtRate(f)}; hsu remote call ${fmtRate(h)}; Moleculer ${fmtRate(m)}`);
      rows.push(rateRow(`cluster ${modeLabel(mode)}: remote call (hsu, NATS)`, h, 'bare NATS request', f, 0.8));
      rows.push(rateRow(`cluster ${modeLabel(mode)}: remote call vs Moleculer (NATS transporter)`, h, 'Moleculer', m, 1.3));
      rows.push(rateRow(`cluster ${modeLabel(mode)}: Moleculer call over NATS (peer)`, m, 'bare NATS request', f));
    }
    for (const [label, op] of [['hsu remote call', hsu], ['bare NATS request', floor], ['Moleculer call', mol]] as const) {
      const s = await latency(op, 3_000);
      rows.push({ name: `cluster sequential latency: ${label}`, value: fmtMs(s.p50), spread: `${fmtMs(s.p90)} / ${fmtMs(s.p99)}`, floor: '', ratio: '', target: 'report', status: 'info' });
    }
  } finally {
    await Promise.all([caller.stop(), service.stop()]);
    await Promise.all([floorClient.close(), floorServer.close()]);
    await b.close();
    await a.close();
    await server.dispose();
  }
  return rows;
}
