/**
 * The mesh's hot path. Each function is one job (a fresh process, see run.ts):
 *
 * - pick: cost of a pick and release per balancer against a bare array index (the floor), and
 *   the garbage collections during a long run of picks (zero means the pick allocates nothing);
 * - router:<deployment>: `router.call(service)` over three replicas against a direct
 *   `master.call(id)` to one of them, for inline, thread and process replicas;
 * - moleculer: Moleculer's balanced call, local and across three nodes on its in-memory transporter.
 */
import moleculer from 'moleculer';
import { PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Master } from '../src/index.js';
import { MemoryRegistry, ServiceRouter, createBalancer, type BalancerStrategy, type ServiceInstance } from '../src/mesh/index.js';
import { fixture, note, scratchDir, verdict, type Row } from './common.js';
import { MODES, alternate, modeLabel, type Mode, type Subject } from './mesh-compare.js';
import { fmtRate, fmtRatio, summarize } from './stats.js';

const ECHO_MODULE = fixture('echo-module.mjs');
const PAYLOAD = { name: 'Ada', n: 1 };
const REPLICAS = 3;

function rateRow(name: string, value: number, floorName: string, floor: number, minRatio?: number): Row {
  const ratio = value / floor;
  const base = { name, value: fmtRate(value), spread: '', floor: `${fmtRate(floor)} ${floorName}`, ratio: fmtRatio(ratio) };
  return minRatio === undefined ? { ...base, target: 'report', status: 'info' } : { ...base, target: `≥ ${minRatio}x floor`, status: verdict(ratio >= minRatio) };
}

// ---- pick cost ---------------------------------------------------------------------------------

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const PICKS = 2_000_000;
const KEYS = Array.from({ length: 1_024 }, (_, i) => `user-${i}`);
let sink = 0;

function instances(count: number): readonly ServiceInstance[] {
  const registry = new MemoryRegistry();
  for (let i = 0; i < count; i++) registry.register({ id: `svc#${i}`, service: 'svc', endpoint: { type: 'function', address: String(i) }, health: 'healthy', weight: 1 + (i % 3) });
  const list = registry.healthy('svc');
  registry.close();
  return list;
}

/** Nanoseconds per op of `run(n)`, median of ABBA-free repeated runs (the loop is CPU-only and short). */
function nsPerOp(run: (n: number) => void): number {
  run(PICKS / 10); // warm-up
  const samples: number[] = [];
  for (let round = 0; round < 7; round++) {
    const t0 = process.hrtime.bigint();
    run(PICKS);
    samples.push(Number(process.hrtime.bigint() - t0) / PICKS);
  }
  return summarize(samples).p50;
}

function bareIndex(list: readonly ServiceInstance[]): (n: number) => void {
  return (n) => {
    const len = list.length;
    for (let i = 0; i < n; i++) sink += (list[i % len] as ServiceInstance).weight;
  };
}

function pickRelease(strategy: BalancerStrategy, list: readonly ServiceInstance[]): (n: number) => void {
  const balancer = createBalancer({ strategy }, { service: 'svc' });
  return (n) => {
    for (let i = 0; i < n; i++) {
      const lease = balancer.pick(list, KEYS[i & 1023]);
      sink += lease.instance.weight;
      lease.release();
    }
  };
}

/** Garbage collections while `run` picks 10 million times: 0 means the pick path allocates nothing. */
async function gcsDuring(run: (n: number) => void): Promise<number> {
  // Collect what startup and the timing runs left, and let its gc entries be delivered, before counting.
  collectGarbage();
  await new Promise((resolve) => setTimeout(resolve, 20));
  let count = 0;
  const observer = new PerformanceObserver((list) => (count += list.getEntries().length));
  observer.observe({ entryTypes: ['gc'] });
  run(10_000_000);
  await new Promise((resolve) => setTimeout(resolve, 50)); // gc entries are delivered asynchronously
  observer.disconnect();
  return count;
}

/**
 * One strategy per job: with several balancer classes through one call site the JIT goes
 * megamorphic, and the strategies measured last would pay for the ones measured first.
 */
export async function benchPick(strategy: BalancerStrategy): Promise<Row[]> {
  const rows: Row[] = [];
  for (const count of [8, 64]) {
    const list = instances(count);
    const floor = nsPerOp(bareIndex(list));
    const run = pickRelease(strategy, list);
    const ns = nsPerOp(run);
    const gcs = await gcsDuring(run);
    const allocationFree = strategy === 'round_robin' || strategy === 'random';
    note(`  pick ${strategy} over ${count}: ${ns.toFixed(1)} ns (bare index ${floor.toFixed(1)} ns), ${gcs} GCs in 10M picks`);
    rows.push({
      name: `mesh pick+release: ${strategy}, ${count} instances`,
      value: `${ns.toFixed(1)} ns`,
      spread: `${gcs} GCs / 10M picks`,
      floor: `${floor.toFixed(1)} ns bare index`,
      ratio: `${ns >= floor ? '+' : ''}${(ns - floor).toFixed(1)} ns`,
      target: allocationFree ? '0 GCs (no allocation)' : 'report',
      status: allocationFree ? verdict(gcs === 0) : 'info',
    });
  }
  if (sink === -1) note(''); // keeps the loops' results observable
  return rows;
}

// ---- router over a real master -----------------------------------------------------------------

type Deployment = 'inline' | 'thread' | 'process';

function replicaConfig(id: string, deployment: Deployment): Parameters<Master['addWorker']>[0] {
  const module = { module_type: 'plugin' as const, module_path: ECHO_MODULE };
  if (deployment === 'process') return { id, type: 'process', module } as never;
  return { id, type: 'module', module: { ...module, isolation: deployment } } as never;
}

/**
 * The router's cost on a real master, against two floors measured in the same run:
 * - one replica: `router.call` to a service of one replica against `master.call` to that worker,
 *   the same placement on both sides, so the ratio is the router alone (target 0.9x inline,
 *   0.95x thread and process);
 * - three replicas: against a hand-written round robin of `master.call` over the same three
 *   workers (same target), and, for information, against `master.call` to one of them: on a
 *   machine with fewer cores than replicas + 1, spreading calls over more threads or processes
 *   costs wake-ups whatever picks them, which this row shows.
 */
export async function benchRouter(deployment: Deployment): Promise<Row[]> {
  note(`mesh: router over ${deployment} replicas vs master.call...`);
  const bareRows = deployment === 'inline' ? await routerOverFunctions() : [];
  const scratch = scratchDir(`mesh-${deployment}`);
  const master = new Master({ logDir: scratch.dir });
  const registry = new MemoryRegistry();
  const ids = Array.from({ length: REPLICAS }, (_, i) => `echo-${i}`);
  const type = deployment === 'inline' ? 'function' : deployment === 'thread' ? 'thread' : 'ipc';
  for (const id of ids) {
    master.addWorker(replicaConfig(id, deployment));
    registry.register({ id, service: 'echo', endpoint: { type, address: id }, health: 'healthy' });
    registry.register({ id: `lc/${id}`, service: 'lc', endpoint: { type, address: id }, health: 'healthy' });
  }
  registry.register({ id: 'one/echo-0', service: 'one', endpoint: { type, address: 'echo-0' }, health: 'healthy' });
  // The endpoint address names the worker: one router serves every service.
  const invoke = (instance: ServiceInstance, action: string, input: unknown): Promise<unknown> => master.call(instance.endpoint.address, action, input);
  const router = new ServiceRouter({ registry, invoke, services: { lc: { balancer: { strategy: 'least_connections' } } } });
  const batch = deployment === 'inline' ? 256 : 8;
  const minRatio = deployment === 'inline' ? 0.9 : 0.95;
  const rows: Row[] = [...bareRows];
  let turn = 0;
  try {
    await master.start();
    const direct: Subject = { op: () => master.call('echo-0', 'echo', PAYLOAD), batch };
    const handRoundRobin: Subject = { op: () => master.call(ids[turn++ % REPLICAS] as string, 'echo', PAYLOAD), batch };
    const routedOne: Subject = { op: () => router.call('one', 'echo', PAYLOAD), batch };
    const routed: Subject = { op: () => router.call('echo', 'echo', PAYLOAD), batch };
    const idempotent: Subject = { op: () => router.call('echo', 'echo', PAYLOAD, { idempotent: true }), batch };
    const leastConnections: Subject = { op: () => router.call('lc', 'echo', PAYLOAD), batch };
    for (const mode of MODES) {
      const one = await alternate(direct, [routedOne], mode);
      const three = await alternate(handRoundRobin, [routed, idempotent, leastConnections], mode);
      const spread = await alternate(direct, [routed], mode);
      const [rr, idem, lc] = three.subjects as [number, number, number];
      const label = modeLabel(mode);
      note(`  ${label}: master.call ${fmtRate(one.floor)} vs router (1 replica) ${fmtRate(one.subjects[0] as number)}; hand round robin ${fmtRate(three.floor)} vs router rr ${fmtRate(rr)}, idempotent ${fmtRate(idem)}, least_connections ${fmtRate(lc)}; rr over 3 vs master.call to one: ${fmtRate(spread.subjects[0] as number)} vs ${fmtRate(spread.floor)}`);
      rows.push(rateRow(`mesh ${label}: ${deployment} router.call, 1 replica`, one.subjects[0] as number, 'master.call', one.floor, minRatio));
      rows.push(rateRow(`mesh ${label}: ${deployment} router.call, round robin over ${REPLICAS}`, rr, 'hand rr', three.floor, minRatio));
      rows.push(rateRow(`mesh ${label}: ${deployment} router.call idempotent (retry guard), ${REPLICAS}`, idem, 'hand rr', three.floor));
      rows.push(rateRow(`mesh ${label}: ${deployment} router.call least connections, ${REPLICAS}`, lc, 'hand rr', three.floor));
      rows.push(rateRow(`mesh ${label}: ${deployment} router.call rr over ${REPLICAS} vs one worker`, spread.subjects[0] as number, 'master.call', spread.floor));
    }
  } finally {
    router.close();
    registry.close();
    await master.shutdown();
    scratch.remove();
  }
  return rows;
}

/** Before any module runs in this process: the router over bare async functions against calling one. */
async function routerOverFunctions(): Promise<Row[]> {
  const registry = new MemoryRegistry();
  const echo = async (input: unknown): Promise<unknown> => input;
  for (let i = 0; i < REPLICAS; i++) registry.register({ id: `f-${i}`, service: 'f', endpoint: { type: 'function', address: String(i) }, health: 'healthy' });
  const router = new ServiceRouter({ registry, invoke: (_instance, _action, input) => echo(input) });
  const rows: Row[] = [];
  for (const mode of MODES) {
    const { floor, subjects } = await alternate({ op: () => echo(PAYLOAD), batch: 256 }, [{ op: () => router.call('f', 'echo', PAYLOAD), batch: 256 }], mode);
    const value = subjects[0] as number;
    note(`  ${modeLabel(mode)}: bare fn ${fmtRate(floor)}; router over bare fns ${fmtRate(value)}`);
    rows.push(rateRow(`mesh ${modeLabel(mode)}: router.call over bare async fns`, value, 'bare fn', floor));
  }
  router.close();
  registry.close();
  return rows;
}

// ---- Moleculer ---------------------------------------------------------------------------------

/**
 * Moleculer's balanced call: `broker.call` always goes through its registry and strategy (round
 * robin). One broker holds one local endpoint per service, so replicas are separate nodes; here
 * three service nodes and a caller on the in-memory Fake transporter (serialization included).
 */
export async function benchMoleculer(): Promise<Row[]> {
  note('mesh: Moleculer balanced calls (local; 3 nodes on the in-memory transporter)...');
  const bare = async (input: unknown): Promise<unknown> => input;
  const options = { logger: false as const, registry: { strategy: 'RoundRobin', preferLocal: false } };
  const local = new moleculer.ServiceBroker({ ...options, transporter: null, nodeID: 'local' });
  local.createService({ name: 'svc', actions: { echo: (ctx: moleculer.Context<typeof PAYLOAD>) => ctx.params } });
  const nodes = Array.from({ length: REPLICAS }, (_, i) => new moleculer.ServiceBroker({ ...options, transporter: 'Fake', nodeID: `node-${i}` }));
  for (const node of nodes) node.createService({ name: 'svc', actions: { echo: (ctx: moleculer.Context<typeof PAYLOAD>) => ctx.params } });
  const caller = new moleculer.ServiceBroker({ ...options, transporter: 'Fake', nodeID: 'caller' });
  const rows: Row[] = [];
  try {
    await Promise.all([local.start(), ...nodes.map((node) => node.start()), caller.start()]);
    await caller.waitForServices('svc');
    for (const mode of MODES as readonly Mode[]) {
      const { floor, subjects } = await alternate({ op: () => bare(PAYLOAD), batch: 256 }, [{ op: () => local.call('svc.echo', PAYLOAD), batch: 256 }, { op: () => caller.call('svc.echo', PAYLOAD), batch: 8 }], mode);
      const [viaLocal, viaNodes] = subjects as [number, number];
      note(`  ${modeLabel(mode)}: bare fn ${fmtRate(floor)}; Moleculer local ${fmtRate(viaLocal)}; over Fake transporter ${fmtRate(viaNodes)}`);
      rows.push(rateRow(`mesh ${modeLabel(mode)}: Moleculer balanced local call`, viaLocal, 'bare fn', floor));
      rows.push(rateRow(`mesh ${modeLabel(mode)}: Moleculer, ${REPLICAS} nodes, Fake transporter`, viaNodes, 'bare fn', floor));
    }
  } finally {
    await Promise.all([local.stop(), ...nodes.map((node) => node.stop()), caller.stop()]);
  }
  return rows;
}
