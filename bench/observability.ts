/**
 * Observability costs. Scrape: /metrics of a master with 1,000 workers (200 processes, 800 inline
 * modules), its time and the longest event-loop stall while it runs, against prom-client's own
 * registry rendering the same per-worker series (the peer a user would reach for) and against an
 * idle loop (the floor of a stall). Tracing: master.call per deployment untraced (the floor, a
 * master with no instrumentation and no hook), with instrumentation but tracing off, with metrics
 * only, with tracing and exporter none (spans made and dropped), and with tracing and a batch
 * OTLP/HTTP exporter to a loopback collector; every subject is measured in rounds bracketed by
 * the untraced floor, so outside load hits both alike.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Gauge, Registry } from 'prom-client';
import { Master } from '../src/index.js';
import { instrumentMaster, type Instrumentation, type InstrumentOptions } from '../src/observability/index.js';
import { fixture, note, scratchDir, verdict, type Row } from './common.js';
import { fmtMs, fmtRate, fmtRatio, sequentialRate, summarize } from './stats.js';

const ECHO_MODULE = fixture('echo-module.mjs');
const WORKERS = 1_000;
/** Processes among them: spawning is what takes time here (~40 ms each on the shared machine), the rest are inline modules. */
const PROCESSES = 200;
const SCRAPES = 15;
const STATES = ['idle', 'starting', 'running', 'stopping', 'stopped', 'failed_start', 'waiting_restart', 'failed'];

/** The longest event-loop stall and the p99 loop delay (ms) while `work` runs, at 1 ms resolution. */
async function stallDuring(work: () => Promise<unknown>): Promise<{ ms: number; stall: number; p99: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  await new Promise((resolve) => setTimeout(resolve, 5)); // the monitor's timer runs before the work begins
  h.reset();
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 2)); // let the histogram see the last turn
  h.disable();
  return { ms, stall: h.max / 1e6, p99: h.percentile(99) / 1e6 };
}

/** prom-client's own rendering of the same per-worker families (state set, up, uptime, restarts, ...). */
function promClientPeer(ids: readonly string[]): Registry {
  const registry = new Registry();
  const labels = ['worker_id', 'type', 'deployment'];
  const state = new Gauge({ name: 'peer_worker_state', help: 'h', labelNames: [...labels, 'state'], registers: [registry] });
  const others = ['up', 'uptime_seconds', 'restarts_total', 'crashes_total', 'last_exit_code', 'cpu_seconds_total', 'resident_memory_bytes'].map(
    (n) => new Gauge({ name: `peer_worker_${n}`, help: 'h', labelNames: labels, registers: [registry] }),
  );
  const health = new Gauge({ name: 'peer_worker_health', help: 'h', labelNames: [...labels, 'status'], registers: [registry] });
  for (const id of ids) {
    const l = { worker_id: id, type: 'process', deployment: 'process' };
    for (const s of STATES) state.set({ ...l, state: s }, s === 'running' ? 1 : 0);
    for (const g of others) g.set(l, 1);
    for (const s of ['healthy', 'unhealthy', 'unknown']) health.set({ ...l, status: s }, s === 'unknown' ? 1 : 0);
  }
  return registry;
}

export async function benchScrape(): Promise<Row[]> {
  note(`observability: /metrics with ${WORKERS} workers (${PROCESSES} processes, ${WORKERS - PROCESSES} inline modules)...`);
  const scratch = scratchDir('obs-scrape');
  const master = new Master({ logDir: scratch.dir, cgroups: 'off', shutdownTimeoutMs: 60_000 });
  let observed: Instrumentation | undefined;
  try {
    for (let i = 0; i < PROCESSES; i++) master.addWorker({ id: `p${i}`, type: 'process', execution: { executable_path: 'sleep', args: ['3600'] } });
    for (let i = 0; i < WORKERS - PROCESSES; i++) master.addWorker({ id: `m${i}`, type: 'module', module: { module_type: 'plugin', module_path: ECHO_MODULE } });
    observed = await instrumentMaster(master);
    const started = performance.now();
    await master.start();
    note(`  ${WORKERS} workers started in ${fmtMs(performance.now() - started)}`);
    for (let i = 0; i < WORKERS - PROCESSES; i++) await master.call(`m${i}`, 'echo', i);
    const metrics = observed.metrics!;
    // The first scrape also asks every inline module once whether it is a command worker (its diagnostics).
    const first = await stallDuring(() => metrics.renderChunks());
    note(`  first scrape: ${fmtMs(first.ms)}, longest stall ${fmtMs(first.stall)}`);
    const text = await metrics.render();
    note(`  exposition: ${text.split('\n').length} lines, ${(text.length / 1024 / 1024).toFixed(2)} MiB`);
    const idle: number[] = [];
    const ours: { ms: number; stall: number; p99: number }[] = [];
    const peer: { ms: number; stall: number; p99: number }[] = [];
    const registry = promClientPeer(master.listWorkers());
    for (let i = 0; i < SCRAPES; i++) {
      // The same length of time without a scrape: what the master's own work (the resource sampler) stalls anyway.
      idle.push((await stallDuring(() => new Promise((resolve) => setTimeout(resolve, Math.max(20, ours.at(-1)?.ms ?? 50))))).stall);
      ours.push(await stallDuring(() => metrics.renderChunks())); // what GET /metrics does: it streams the chunks
      peer.push(await stallDuring(() => registry.metrics()));
    }
    const o = summarize(ours.map((s) => s.ms));
    const p = summarize(peer.map((s) => s.ms));
    const os = summarize(ours.map((s) => s.stall));
    const ps = summarize(peer.map((s) => s.stall));
    const is = summarize(idle);
    const o99 = summarize(ours.map((s) => s.p99));
    note(`  hsu loop delay p99 during a scrape: p50 of scrapes ${fmtMs(o99.p50)}, worst ${fmtMs(o99.max)}`);
    note(`  hsu render p50 ${fmtMs(o.p50)}, stall p50 ${fmtMs(os.p50)} max ${fmtMs(os.max)}; prom-client p50 ${fmtMs(p.p50)}, stall p50 ${fmtMs(ps.p50)}; idle stall p50 ${fmtMs(is.p50)}`);
    return [
      { name: `metrics scrape, ${WORKERS} workers (p50)`, value: fmtMs(o.p50), spread: `${fmtMs(o.p90)} / ${fmtMs(o.max)}`, floor: `${fmtMs(p.p50)} prom-client registry`, ratio: fmtRatio(o.p50 / p.p50), target: 'report', status: 'info' },
      {
        name: `metrics scrape, ${WORKERS} workers: longest event-loop stall (p50)`,
        value: fmtMs(os.p50),
        spread: `${fmtMs(os.p90)} / ${fmtMs(os.max)}`,
        floor: `${fmtMs(is.p50)} idle loop`,
        ratio: fmtRatio(os.p50 / is.p50),
        target: '≤ 20 ms',
        status: verdict(os.max <= 20),
      },
      {
        name: `metrics scrape, ${WORKERS} workers: p99 event-loop delay during it (p50)`,
        value: fmtMs(o99.p50),
        spread: `${fmtMs(o99.p90)} / ${fmtMs(o99.max)}`,
        floor: `${fmtMs(is.p50)} idle loop (longest stall)`,
        ratio: fmtRatio(o99.p50 / is.p50),
        target: '≤ 10 ms',
        status: verdict(o99.p50 <= 10),
      },
      { name: `prom-client rendering the same series: longest stall (p50)`, value: fmtMs(ps.p50), spread: `${fmtMs(ps.p90)} / ${fmtMs(ps.max)}`, floor: `${fmtMs(os.p50)} hsu`, ratio: fmtRatio(ps.p50 / os.p50), target: 'report', status: 'info' },
    ];
  } finally {
    await master.shutdown();
    await observed?.close();
    scratch.remove();
  }
}

type Deployment = 'inline' | 'thread' | 'process';

function echoWorker(deployment: Deployment): Parameters<Master['addWorker']>[0] {
  if (deployment === 'process') return { id: 'echo', type: 'process', module: { module_type: 'plugin', module_path: ECHO_MODULE } };
  return { id: 'echo', type: 'module', module: { module_type: 'plugin', module_path: ECHO_MODULE, isolation: deployment } };
}

async function collector(): Promise<{ server: Server; url: string; spans: () => number }> {
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, spans: () => bytes };
}

export async function benchTracing(deployment: Deployment): Promise<Row[]> {
  note(`observability: tracing overhead on master.call, ${deployment} (each subject bracketed by the untraced floor)...`);
  const sink = await collector();
  const scratch = scratchDir(`obs-tracing-${deployment}`);
  const masters: Master[] = [];
  const make = async (): Promise<Master> => {
    const master = new Master({ logDir: scratch.dir, cgroups: 'off' });
    masters.push(master);
    master.addWorker(echoWorker(deployment));
    await master.start();
    return master;
  };
  const batch = deployment === 'inline' ? 256 : 8;
  const segmentMs = deployment === 'inline' ? 150 : 200;
  const subjects: { name: string; options: InstrumentOptions }[] = [
    { name: 'instrumented, metrics and tracing off', options: { metrics: false, tracing: { enabled: false } } },
    { name: 'metrics on, tracing off (the default)', options: {} },
    { name: 'tracing on, exporter none', options: { metrics: false, tracing: { enabled: true, exporter: 'none' } } },
    { name: 'tracing on, batch OTLP/HTTP exporter', options: { metrics: false, tracing: { enabled: true, exporter: 'otlp', endpoint: sink.url, export_delay: 200 } } },
  ];
  const rows: Row[] = [];
  try {
    const floorMaster = await make();
    const floorOp = (): Promise<unknown> => floorMaster.call('echo', 'echo', 1);
    await sequentialRate(floorOp, 300, batch);
    for (const subject of subjects) {
      const floor: number[] = [];
      const measured: number[] = [];
      for (let round = 0; round < 4; round++) {
        floor.push(await sequentialRate(floorOp, segmentMs, batch));
        // A fresh master per round, instrumented for its segments only: the call-context hook is
        // process-wide (the floor must run without it) and a master's middleware stays once added.
        const master = await make();
        const observed = await instrumentMaster(master, subject.options);
        const op = (): Promise<unknown> => master.call('echo', 'echo', 1);
        await sequentialRate(op, deployment === 'inline' ? 50 : 200, batch); // a fresh thread or process is cold
        measured.push(await sequentialRate(op, segmentMs, batch));
        measured.push(await sequentialRate(op, segmentMs, batch));
        await observed.close();
        await master.shutdown();
        floor.push(await sequentialRate(floorOp, segmentMs, batch));
      }
      const f = summarize(floor).p50;
      const m = summarize(measured).p50;
      const overhead = 1 - m / f;
      note(`  ${subject.name}: ${fmtRate(m)} against untraced ${fmtRate(f)} (${(overhead * 100).toFixed(1)}% slower)`);
      const off = subject.options.tracing?.enabled !== true && subject.options.metrics === false;
      rows.push({
        name: `master.call ${deployment}: ${subject.name}`,
        value: fmtRate(m),
        spread: '',
        floor: `${fmtRate(f)} untraced`,
        ratio: fmtRatio(m / f),
        target: off ? '≥ 0.95x (≈ 0)' : 'report',
        status: off ? verdict(m / f >= 0.95) : 'info',
      });
    }
    note(`  the collector received ${(sink.spans() / 1024).toFixed(0)} KiB of OTLP`);
  } finally {
    for (const master of masters) await master.shutdown();
    await new Promise((resolve) => sink.server.close(resolve));
    scratch.remove();
  }
  return rows;
}
