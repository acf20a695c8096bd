/**
 * Replicas behind the master's own wiring (`instances:`, the service registry fed by the lifecycle,
 * the router with its balancer), one job:
 *
 * - throughput per deployment (inline, thread, process): `master.call(service)` through the
 *   balancer over 3 replicas and over 1, against the floor `master.call('<id>#0')` straight to one
 *   instance (no registry, no balancer), and for information a hand-written round robin of
 *   `master.call` over the same three replicas (same placement, no router);
 * - Moleculer's balanced local call (`broker.call`, always through its registry and strategy),
 *   alternated with hsu's inline `master.call(service)` in the same process;
 * - autoscaler reaction: from a load step to the new replica's first answer, split into the
 *   decision (load step -> scale_up event) and the start, beside the floor of starting one such
 *   worker directly.
 *
 * Rates come from mesh-compare's ABBA segments (both sides warmed, alternated, medians).
 */
import moleculer from 'moleculer';
import { performance } from 'node:perf_hooks';
import { Master } from '../src/index.js';
import type { ScaleEvent } from '../src/master/events.js';
import { fixture, note, scratchDir, sleep, verdict, type Row } from './common.js';
import { MODES, alternate, modeLabel, type Subject } from './mesh-compare.js';
import { fmtMs, fmtRate, fmtRatio, summarize } from './stats.js';

type Deployment = 'inline' | 'thread' | 'process';
const MODULE = fixture('replicas-work.mjs');
const PAYLOAD = { name: 'Ada', n: 1 };
const REPLICAS = 3;
const TRIALS = 4;

function worker(id: string, deployment: Deployment, extra: Record<string, unknown> = {}): Parameters<Master['addWorker']>[0] {
  const module = { module_type: 'plugin' as const, module_path: MODULE };
  if (deployment === 'process') return { id, type: 'process', module, ...extra } as never;
  return { id, type: 'module', module: { ...module, isolation: deployment }, ...extra } as never;
}

/**
 * A master for one scenario. Cgroups off: with cgroups on, process replicas (`<id>#<n>`) cannot
 * start yet (CgroupManager refuses the id; see docs/mesh.md, Proof), and they are not what is measured.
 */
function benchMaster(dir: string): Master {
  return new Master({ logDir: dir, cgroups: 'off' });
}

/** master.start(), failing on any worker that did not start. */
async function startAll(master: Master): Promise<void> {
  const failed = (await master.start()).filter((r) => !r.ok);
  if (failed.length > 0) throw new Error(`workers did not start: ${JSON.stringify(failed)}`);
}

function rateRow(name: string, value: number, floorName: string, floor: number, minRatio?: number): Row {
  const ratio = value / floor;
  const base = { name, value: fmtRate(value), spread: '', floor: `${fmtRate(floor)} ${floorName}`, ratio: fmtRatio(ratio) };
  return minRatio === undefined ? { ...base, target: 'report', status: 'info' } : { ...base, target: `≥ ${minRatio}x floor`, status: verdict(ratio >= minRatio) };
}

/**
 * Call throughput of one deployment through the balancer against a direct call to one instance:
 * - over 3 replicas (`echo`), against `master.call('echo#0')` (the comparison) and, for
 *   information, a hand-written round robin over the same three (same placement, no router);
 * - over 1 replica, the same process as the floor: `solo` has three replicas, two of them drained
 *   (unhealthy in the registry), so `master.call('solo')` routes to `solo#0`, the floor's target:
 *   the ratio is the registry, balancer and router alone.
 */
async function throughput(deployment: Deployment): Promise<Row[]> {
  note(`replicas: master.call(service) over ${deployment} replicas vs master.call to one instance...`);
  const scratch = scratchDir(`replicas-${deployment}`);
  const master = benchMaster(scratch.dir);
  master.addWorker(worker('echo', deployment, { instances: REPLICAS }));
  master.addWorker(worker('solo', deployment, { instances: REPLICAS }));
  const broker = deployment === 'inline' ? new moleculer.ServiceBroker({ logger: false, transporter: null, nodeID: 'local', registry: { strategy: 'RoundRobin' } }) : undefined;
  broker?.createService({ name: 'svc', actions: { echo: (ctx: moleculer.Context<typeof PAYLOAD>) => ctx.params } });
  const batch = deployment === 'inline' ? 256 : 8;
  const minRatio = deployment === 'inline' ? 0.9 : 0.95;
  const ids = Array.from({ length: REPLICAS }, (_, i) => `echo#${i}`);
  let turn = 0;
  const rows: Row[] = [];
  try {
    await startAll(master);
    await broker?.start();
    for (let i = 1; i < REPLICAS; i++) master.services.registry.setHealth(`solo#${i}`, 'unhealthy');
    const direct: Subject = { op: () => master.call('echo#0', 'echo', PAYLOAD), batch };
    const routed: Subject = { op: () => master.call('echo', 'echo', PAYLOAD), batch };
    const handRoundRobin: Subject = { op: () => master.call(ids[turn++ % REPLICAS] as string, 'echo', PAYLOAD), batch };
    const soloDirect: Subject = { op: () => master.call('solo#0', 'echo', PAYLOAD), batch };
    const soloRouted: Subject = { op: () => master.call('solo', 'echo', PAYLOAD), batch };
    for (const mode of MODES) {
      const label = modeLabel(mode);
      const three = await alternate(direct, [routed, handRoundRobin], mode);
      const [overThree, hand] = three.subjects as [number, number];
      const one = await alternate(soloDirect, [soloRouted], mode);
      const overOne = one.subjects[0] as number;
      note(`  ${label}: direct ${fmtRate(three.floor)}; service over ${REPLICAS} ${fmtRate(overThree)}; hand round robin ${fmtRate(hand)}; direct ${fmtRate(one.floor)} vs service of 1 ${fmtRate(overOne)}`);
      rows.push(rateRow(`replicas ${label}: ${deployment} master.call(service), round robin over ${REPLICAS}`, overThree, 'master.call(id#0)', three.floor, minRatio));
      rows.push(rateRow(`replicas ${label}: ${deployment} master.call(service) over ${REPLICAS} vs hand round robin`, overThree, 'hand rr', hand));
      rows.push(rateRow(`replicas ${label}: ${deployment} master.call(service), 1 healthy replica`, overOne, 'master.call(id#0)', one.floor, minRatio));
      if (broker !== undefined) {
        const versus = await alternate({ op: () => broker.call('svc.echo', PAYLOAD), batch }, [routed], mode);
        const hsu = versus.subjects[0] as number;
        note(`  ${label}: Moleculer balanced local call ${fmtRate(versus.floor)}; hsu master.call(service) over ${REPLICAS} inline ${fmtRate(hsu)}`);
        rows.push(rateRow(`replicas ${label}: inline master.call(service) over ${REPLICAS} vs Moleculer balanced local call`, hsu, 'Moleculer local', versus.floor));
      }
    }
  } finally {
    await broker?.stop();
    await master.shutdown();
    scratch.remove();
  }
  return rows;
}

/** Waits until `check` holds, polling every 10 ms; gives up (throws) after `ms`. */
async function until(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * Autoscaler reaction on one deployment: `TRIALS` load steps on an idle pool of 1 (min 1, max 2,
 * scale up above 2 calls in flight per replica, 1 s window sampled every 200 ms); each from the
 * step to the first answer of the replica it added, then the load stops and the pool shrinks back.
 */
async function reaction(deployment: Deployment): Promise<Row[]> {
  note(`replicas: autoscaler reaction on ${deployment} replicas...`);
  const scratch = scratchDir(`replicas-scale-${deployment}`);
  const master = benchMaster(scratch.dir);
  const autoscale = { min: 1, max: 2, metric: 'inflight_per_replica', scale_up_at: 2, scale_down_at: 0.5, window: '1s', cooldown: '500ms' };
  master.addWorker(worker('scale', deployment, { instances: 1, autoscale }));
  master.addWorker(worker('solo', deployment, { enabled: false }));
  const decide: number[] = [];
  const serve: number[] = [];
  const starts: number[] = [];
  try {
    await startAll(master);
    // The floor: starting one such worker directly (what adding a replica costs at least).
    for (let i = 0; i < TRIALS; i++) {
      const t0 = performance.now();
      await master.startWorker('solo');
      starts.push(performance.now() - t0);
      await master.stopWorker('solo');
    }
    for (let trial = 0; trial < TRIALS; trial++) {
      await until('an idle pool of one', () => master.listReplicas('scale').length === 1);
      await sleep(1_200); // past the cooldown, a full window of idle samples: a steady state
      const present = new Set(master.listReplicas('scale'));
      let decidedAt: number | undefined;
      const off = master.on('scale', (e: ScaleEvent) => {
        if (e.action === 'scale_up' && decidedAt === undefined) decidedAt = e.at;
      });
      const stepWall = Date.now();
      const step = performance.now();
      let servedAt: number | undefined;
      let running = true;
      const lanes = Array.from({ length: 8 }, async () => {
        while (running) {
          const id = (await master.call('scale', 'work', { ms: 20 })) as string;
          if (!present.has(id) && servedAt === undefined) servedAt = performance.now();
        }
      });
      try {
        await until('the new replica to answer', () => servedAt !== undefined);
      } finally {
        running = false;
        await Promise.all(lanes);
        off();
      }
      serve.push((servedAt as number) - step);
      decide.push((decidedAt ?? Number.NaN) - stepWall);
    }
    await until('the pool back to one', () => master.listReplicas('scale').length === 1);
  } finally {
    await master.shutdown();
    scratch.remove();
  }
  const s = summarize(serve);
  const d = summarize(decide);
  const floor = summarize(starts);
  note(`  ${deployment}: load step -> new replica serving p50 ${fmtMs(s.p50)} (max ${fmtMs(s.max)}); -> decision p50 ${fmtMs(d.p50)}; a direct start p50 ${fmtMs(floor.p50)}`);
  return [
    {
      name: `replicas autoscale (${deployment}): load step -> new replica serving, ${TRIALS} trials`,
      value: fmtMs(s.p50),
      spread: `max ${fmtMs(s.max)}`,
      floor: `${fmtMs(floor.p50)} direct startWorker`,
      ratio: `+${fmtMs(s.p50 - floor.p50)}`,
      target: 'report',
      status: 'info',
    },
    {
      name: `replicas autoscale (${deployment}): load step -> scale_up decision`,
      value: fmtMs(d.p50),
      spread: `max ${fmtMs(d.max)}`,
      floor: '200 ms sample interval',
      ratio: fmtRatio(d.p50 / 200),
      target: 'report',
      status: 'info',
    },
  ];
}

export async function benchReplicas(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const deployment of ['inline', 'thread', 'process'] as const) rows.push(...(await throughput(deployment)));
  for (const deployment of ['thread', 'process'] as const) rows.push(...(await reaction(deployment)));
  return rows;
}
