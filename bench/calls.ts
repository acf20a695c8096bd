/**
 * Call throughput per deployment, sequential and with 100 calls in flight, each beside its raw
 * floor: a bare `await fn()`, a raw postMessage round trip to a thread, a raw process.send round
 * trip to a forked child. Moleculer's local call is measured the same way for comparison.
 *
 * Each scenario is its own job (run.ts gives every job a fresh process): once an inline module has
 * run, every promise in the process is slower (Node 20's AsyncLocalStorage turns on promise hooks),
 * so the other deployments, Moleculer and the clean floors must not share that process.
 *
 * Pairs alternate floor and subject in 100 ms segments (ABBA, five rounds, after a warm-up) and
 * take each side's median segment, so outside load on a shared machine hits both sides alike.
 */
import moleculer from 'moleculer';
import { Master } from '../src/index.js';
import { fixture, note, scratchDir, verdict, type Row } from './common.js';
import { forkEcho, killChild, threadEcho, type Op } from './floors.js';
import { fmtRate, fmtRatio, inFlightRate, sequentialRate, summarize } from './stats.js';

const ECHO_MODULE = fixture('echo-module.mjs');
const PAYLOAD = { name: 'Ada', n: 1 };
const IN_FLIGHT = 100;
const WARMUP_MS = 300;
const SEGMENT_MS = 100;
const ROUNDS = 5;
const MODES = ['seq', 'inflight'] as const;
type Mode = (typeof MODES)[number];

/** The echo fixture's shape, for the typed client (the fixture itself is plain .mjs). */
type EchoModule = () => { info: { name: string; version: string }; start(): void; actions: { echo: (input: typeof PAYLOAD) => Promise<typeof PAYLOAD> } };

/** Inline ops take ~100 ns: read the clock every 256 of them. Remote ops take ~50 µs: every 8 keeps segments exact. */
interface Subject {
  readonly op: Op;
  readonly batch: number;
}

const label = (mode: Mode): string => (mode === 'seq' ? 'sequential' : `${IN_FLIGHT} in flight`);
const bareEcho = async (input: typeof PAYLOAD): Promise<typeof PAYLOAD> => input;
const bare: Subject = { op: () => bareEcho(PAYLOAD), batch: 256 };

function rate(subject: Subject, mode: Mode, ms: number): Promise<number> {
  return mode === 'seq' ? sequentialRate(subject.op, ms, subject.batch) : inFlightRate(subject.op, IN_FLIGHT, ms, Math.max(1, subject.batch / 16));
}

async function alone(subject: Subject, mode: Mode): Promise<number> {
  await rate(subject, mode, WARMUP_MS);
  const segments: number[] = [];
  for (let i = 0; i < ROUNDS * 2; i++) segments.push(await rate(subject, mode, SEGMENT_MS));
  return summarize(segments).p50;
}

/**
 * Floor and subject alternate in short segments (ABBA, ROUNDS times) after warming both; each side's
 * rate is the median of its segments, so a burst of outside load cannot land on one side only.
 */
async function pair(floor: Subject, subject: Subject, mode: Mode): Promise<[number, number]> {
  await rate(floor, mode, WARMUP_MS);
  await rate(subject, mode, WARMUP_MS);
  const f: number[] = [];
  const s: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    f.push(await rate(floor, mode, SEGMENT_MS));
    s.push(await rate(subject, mode, SEGMENT_MS));
    s.push(await rate(subject, mode, SEGMENT_MS));
    f.push(await rate(floor, mode, SEGMENT_MS));
  }
  return [summarize(f).p50, summarize(s).p50];
}

interface Target {
  readonly minRatio?: number;
  readonly minRate?: number;
}

function row(name: string, value: number, floorName: string, floor: number, target: Target = {}): Row {
  const ratio = value / floor;
  const base = { name, value: fmtRate(value), spread: '', floor: `${fmtRate(floor)} ${floorName}`, ratio: fmtRatio(ratio) };
  if (target.minRate !== undefined) return { ...base, target: `≥ ${fmtRate(target.minRate)}`, status: verdict(value >= target.minRate) };
  if (target.minRatio !== undefined) return { ...base, target: `≥ ${target.minRatio}x floor`, status: verdict(ratio >= target.minRatio) };
  return { ...base, target: 'report', status: 'info' };
}

function newMaster(label: string, attributeUncaughtErrors = true): { master: Master; remove: () => void } {
  const scratch = scratchDir(label);
  return { master: new Master({ logDir: scratch.dir, attributeUncaughtErrors }), remove: scratch.remove };
}

/**
 * Inline: the floor is a bare `await fn()` measured before any module ran in this process. With
 * `attribution` (the default) uncaught errors are charged to modules through AsyncLocalStorage,
 * which makes every promise in the process slower; without it the master trades that for speed.
 */
export async function callsInline(attribution = true): Promise<Row[]> {
  const mode_ = attribution ? 'attribution on (default)' : 'inline_error_attribution: false';
  note(`calls: inline, ${mode_} (bare floor first, then master.call and the typed client, ABBA against bare)...`);
  const clean = { seq: await alone(bare, 'seq'), inflight: await alone(bare, 'inflight') };
  const { master, remove } = newMaster('calls-inline', attribution);
  const tag = attribution ? 'inline' : 'inline, no attribution';
  master.addWorker({ id: 'inline', type: 'module', module: { module_type: 'plugin', module_path: ECHO_MODULE } });
  const rows: Row[] = [];
  try {
    await master.startWorker('inline');
    const client = master.client<EchoModule>('inline');
    const viaCall: Subject = { op: () => master.call('inline', 'echo', PAYLOAD), batch: 256 };
    const viaClient: Subject = { op: () => client.echo(PAYLOAD), batch: 256 };
    for (const mode of MODES) {
      const [taxed, call] = await pair(bare, viaCall, mode);
      const [, typed] = await pair(bare, viaClient, mode);
      note(`  ${label(mode)}: bare (clean) ${fmtRate(clean[mode])}; bare (after an inline module started) ${fmtRate(taxed)}; master.call ${fmtRate(call)}; client ${fmtRate(typed)}`);
      const target = mode === 'seq' ? { minRate: 6e6 } : {};
      rows.push(row(`calls ${label(mode)}: ${tag} master.call`, call, 'bare fn', clean[mode], target));
      rows.push(row(`calls ${label(mode)}: ${tag} typed client`, typed, 'bare fn', clean[mode], target));
      rows.push(row(`calls ${label(mode)}: bare fn once an ${tag} module ran`, taxed, 'bare fn', clean[mode]));
    }
  } finally {
    await master.shutdown();
    remove();
  }
  return rows;
}

/** Moleculer's local call (logger off, no transporter), against a clean bare floor in its own process. */
export async function callsMoleculer(): Promise<Row[]> {
  note('calls: Moleculer local call (bare floor first)...');
  const clean = { seq: await alone(bare, 'seq'), inflight: await alone(bare, 'inflight') };
  const broker = new moleculer.ServiceBroker({ logger: false, transporter: null, nodeID: 'bench' });
  broker.createService({ name: 'svc', actions: { echo: (ctx: moleculer.Context<typeof PAYLOAD>) => ctx.params } });
  const rows: Row[] = [];
  try {
    await broker.start();
    const viaBroker: Subject = { op: () => broker.call('svc.echo', PAYLOAD), batch: 256 };
    for (const mode of MODES) {
      const value = await alone(viaBroker, mode);
      note(`  ${label(mode)}: bare ${fmtRate(clean[mode])}; broker.call ${fmtRate(value)}`);
      rows.push(row(`calls ${label(mode)}: Moleculer local call`, value, 'bare fn', clean[mode]));
    }
  } finally {
    await broker.stop();
  }
  return rows;
}

/** Thread: master.call against a raw postMessage round trip to an echoing thread. */
export async function callsThread(): Promise<Row[]> {
  note('calls: thread module vs raw postMessage round trip...');
  const { master, remove } = newMaster('calls-thread');
  master.addWorker({ id: 'thread', type: 'module', module: { module_type: 'plugin', module_path: ECHO_MODULE, isolation: 'thread' } });
  const echo = await threadEcho(PAYLOAD);
  const rows: Row[] = [];
  try {
    await master.startWorker('thread');
    const viaThread: Subject = { op: () => master.call('thread', 'echo', PAYLOAD), batch: 8 };
    for (const mode of MODES) {
      const [floor, hsu] = await pair({ op: echo.op, batch: 8 }, viaThread, mode);
      note(`  ${label(mode)}: raw postMessage ${fmtRate(floor)}; master.call ${fmtRate(hsu)}`);
      rows.push(row(`calls ${label(mode)}: thread master.call`, hsu, 'postMessage', floor, { minRatio: 0.7 }));
    }
  } finally {
    await master.shutdown();
    await echo.worker.terminate();
    remove();
  }
  return rows;
}

/** Hosted process: master.call against a raw process.send round trip ('advanced', as hsu's host; json for information). */
export async function callsProcess(): Promise<Row[]> {
  note('calls: hosted process module vs raw process.send round trip...');
  const { master, remove } = newMaster('calls-process');
  master.addWorker({ id: 'hosted', type: 'process', module: { module_type: 'plugin', module_path: ECHO_MODULE } });
  const advanced = await forkEcho(PAYLOAD, 'advanced');
  const json = await forkEcho(PAYLOAD, 'json');
  const rows: Row[] = [];
  try {
    await master.startWorker('hosted');
    const viaHosted: Subject = { op: () => master.call('hosted', 'echo', PAYLOAD), batch: 8 };
    for (const mode of MODES) {
      const [floor, hsu] = await pair({ op: advanced.op, batch: 8 }, viaHosted, mode);
      const jsonFloor = await alone({ op: json.op, batch: 8 }, mode);
      note(`  ${label(mode)}: raw process.send advanced ${fmtRate(floor)}, json ${fmtRate(jsonFloor)}; master.call ${fmtRate(hsu)}`);
      rows.push(row(`calls ${label(mode)}: process master.call`, hsu, 'send adv.', floor, { minRatio: 0.7 }));
      rows.push(row(`calls ${label(mode)}: process (vs json floor)`, hsu, 'send json', jsonFloor));
    }
  } finally {
    await master.shutdown();
    await killChild(advanced.child);
    await killChild(json.child);
    remove();
  }
  return rows;
}
