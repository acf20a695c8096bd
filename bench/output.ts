/**
 * Log throughput of a child flooding 200 MiB of 100-byte lines into its files, beside the floor
 * (`child | cat > file`: the least any capture must do, one pipe and one writer) and the peer a
 * user would pick instead (PM2 7, whose daemon reads the pipe and writes the file), in the same
 * run: through split (process workers: split writes, the master follows the files and copies
 * lines within its budget) and through the master-written path (threads, hosted modules, the
 * fallback). The clock runs from spawn until every byte is on disk; the master's CPU over the same
 * span is reported as percent of one core, and PM2's daemon's beside it.
 *
 * Then gzip of one 200 MiB segment by LogSegments, beside `gzip -6` of the same file: its speed,
 * and the event loop's worst stall while it runs (monitorEventLoopDelay, 1 ms resolution).
 *
 * Floor, split and master alternate over three rounds and each reports its median, so a burst of
 * outside load cannot land on one side only.
 */
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import pino from 'pino';
import { LogSegments, OutputCapture, SplitWriter, detectSplit } from '../src/runtimes/output/index.js';
import { fixture, note, scratchDir, sleep, verdict, type Row } from './common.js';
import { PM2 as PM2_BIN } from './peers-pm2-sides.js';
import { summarize } from './stats.js';

const MIB = 2 ** 20;
const FLOOD_MIB = 200;
const TOTAL = FLOOD_MIB * MIB;
const ROUNDS = 7;
const FLOOD = fixture('output-flood.mjs');
const NODE = process.execPath;
const silent = pino({ level: 'silent' });

interface Measured {
  readonly ms: number;
  /** Percent of one core used by the process that does the capturing (master or PM2 daemon). */
  readonly cpu: number | null;
}

const mbps = (ms: number): number => TOTAL / MIB / (ms / 1000);
const fmt = (ms: number): string => `${mbps(ms).toFixed(0)} MiB/s`;

function segmentBytes(dir: string, prefix: string): number {
  return readdirSync(dir)
    .filter((n) => n.startsWith(prefix) && /\.\d{6}\.log$/.test(n))
    .reduce((sum, n) => sum + statSync(path.join(dir, n)).size, 0);
}

/** Polls one stat every 5 ms (cheap next to the flood, and at most 5 ms late on a ~300 ms run). */
async function untilBytes(read: () => number, total: number): Promise<void> {
  while (read() < total) await sleep(5);
}

const sizeOf = (file: string): number => statSync(file, { throwIfNoEntry: false })?.size ?? 0;

function cpuPercent(start: NodeJS.CpuUsage, ms: number): number {
  const used = process.cpuUsage(start);
  return ((used.user + used.system) / 1000 / ms) * 100;
}

async function floorCat(dir: string): Promise<Measured> {
  const file = path.join(dir, 'cat.log');
  const t0 = performance.now();
  const sh = spawn('sh', ['-c', '"$0" "$1" "$2" | cat > "$3"', NODE, FLOOD, String(FLOOD_MIB), file], { stdio: 'ignore' });
  await once(sh, 'exit');
  const ms = performance.now() - t0;
  if (statSync(file).size !== TOTAL) throw new Error('cat floor: size mismatch');
  rmSync(file);
  return { ms, cpu: null };
}

async function viaSplit(dir: string): Promise<Measured> {
  const capture = new OutputCapture({ workerId: 'split', logDir: dir, onLine: () => undefined });
  const attachment = await capture.attachSplit(silent);
  if (attachment === null) throw new Error(`split unusable: ${capture.writer.note}`);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const child = spawn(NODE, [FLOOD, String(FLOOD_MIB)], { detached: true, stdio: ['ignore', attachment.stdout, attachment.stderr] });
  attachment.started(child.pid!);
  await once(child, 'exit');
  await untilBytes(() => sizeOf(path.join(dir, 'split.out.000000.log')), TOTAL); // no max_size: one segment
  const ms = performance.now() - t0;
  const cpu = cpuPercent(cpu0, ms);
  await attachment.exited(10_000);
  await capture.close();
  if (capture.stats().stdout.bytes !== TOTAL) throw new Error('split: the follower did not read every byte');
  rmSync(dir, { recursive: true, force: true });
  return { ms, cpu };
}

/** The writer alone: split and its files, nobody following them (what the copy to the master log costs is the difference). */
async function viaSplitOnly(dir: string): Promise<Measured> {
  mkdirSync(dir, { recursive: true });
  const support = await detectSplit();
  const writer = await SplitWriter.start({ binary: support.binary, segments: new LogSegments({ dir, key: 'alone.out' }), logger: silent });
  const t0 = performance.now();
  const child = spawn(NODE, [FLOOD, String(FLOOD_MIB)], { detached: true, stdio: ['ignore', writer.stdin, 'ignore'] });
  await once(child, 'exit');
  await untilBytes(() => sizeOf(path.join(dir, 'alone.out.000000.log')), TOTAL);
  const ms = performance.now() - t0;
  await writer.end(10_000);
  rmSync(dir, { recursive: true, force: true });
  return { ms, cpu: null };
}

async function viaMaster(dir: string): Promise<Measured> {
  const capture = new OutputCapture({ workerId: 'master', logDir: dir, onLine: () => undefined });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const child = spawn(NODE, [FLOOD, String(FLOOD_MIB)], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = capture.attach(child.stdout, 'stdout', child.pid, silent);
  const err = capture.attach(child.stderr, 'stderr', child.pid, silent);
  await Promise.all([once(child, 'exit'), out.done, err.done]);
  await capture.close();
  const ms = performance.now() - t0;
  const cpu = cpuPercent(cpu0, ms);
  if (segmentBytes(dir, 'master.out.') !== TOTAL) throw new Error('master path: size mismatch');
  rmSync(dir, { recursive: true, force: true });
  return { ms, cpu };
}

interface Pm2 {
  connect(cb: (err: Error | null) => void): void;
  start(options: Record<string, unknown>, cb: (err: Error | null) => void): void;
  delete(name: string, cb: (err: Error | null) => void): void;
  disconnect(): void;
}

/** PM2 reads PM2_HOME when it is loaded: set it first. */
function loadPm2(home: string): Pm2 | undefined {
  process.env.PM2_HOME = home;
  try {
    return createRequire(import.meta.url)('pm2') as Pm2;
  } catch {
    return undefined;
  }
}

const call = (fn: (cb: (err: Error | null) => void) => void): Promise<void> => new Promise((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));

function ticksOf(pid: number): number {
  const rest = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(rest[11]) + Number(rest[12]);
}

/** PM2's daemon reads the child's pipe and writes its out file; PM2_HOME is a scratch directory. */
async function viaPm2(pm2: Pm2, dir: string): Promise<Measured> {
  const out = path.join(dir, 'pm2.out.log');
  await call((cb) => pm2.connect(cb));
  try {
    const daemon = Number(readFileSync(path.join(process.env.PM2_HOME!, 'pm2.pid'), 'utf8'));
    const ticks0 = ticksOf(daemon);
    const t0 = performance.now();
    await call((cb) => pm2.start({ script: FLOOD, args: [String(FLOOD_MIB)], name: 'flood', autorestart: false, output: out, error: path.join(dir, 'pm2.err.log'), interpreter: NODE }, cb));
    await untilBytes(() => sizeOf(out), TOTAL);
    const ms = performance.now() - t0;
    const cpu = ((ticksOf(daemon) - ticks0) * 10 * 100) / ms;
    await call((cb) => pm2.delete('flood', cb));
    return { ms, cpu };
  } finally {
    // Disconnect first, then kill the daemon from its CLI: killDaemon() through this client makes the
    // client reconnect to the dying daemon, and its sockets and retry timer kept this process alive.
    pm2.disconnect();
    const killed = spawnSync(NODE, [PM2_BIN, 'kill'], { env: { ...process.env, PM2_DISABLE_VERSION_CHECK: 'true' }, timeout: 60_000, stdio: 'ignore' });
    if (killed.status !== 0) note(`  WARNING: pm2 kill exited with ${killed.status ?? killed.signal}: its daemon may be left running`);
    delete process.env.PM2_HOME;
  }
}

interface LoopDelay {
  readonly maxMs: number;
  readonly p99Ms: number;
  /** Event-loop utilization: the share of the time the loop spent running callbacks, not waiting. */
  readonly elu: number;
}

/** The event loop's delay (1 ms resolution) and utilization while `during` runs. */
async function loopDelay(during: () => Promise<void>): Promise<LoopDelay> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const elu0 = performance.eventLoopUtilization();
  await during();
  const elu = performance.eventLoopUtilization(elu0).utilization;
  histogram.disable();
  return { maxMs: histogram.max / 1e6, p99Ms: histogram.percentile(99) / 1e6, elu };
}

/**
 * One 200 MiB segment compressed by LogSegments while the loop's delay is sampled; the floor is
 * the same sampling over an idle loop for as long (what the machine itself costs), and `gzip -6`
 * of the same bytes is the speed floor.
 */
async function benchGzip(dir: string): Promise<{ ms: number; busy: LoopDelay; idle: LoopDelay; cliMs: number | null }> {
  const block = execFileSync(NODE, [FLOOD, '1'], { maxBuffer: 2 * MIB });
  const file = path.join(dir, 'z.out.000000.log');
  const fd = openSync(file, 'w');
  for (let i = 0; i < FLOOD_MIB; i++) writeSync(fd, block);
  closeSync(fd);
  writeFileSync(path.join(dir, 'z.out.000001.log'), '');
  let cliMs: number | null = null;
  try {
    const t = performance.now();
    execFileSync('sh', ['-c', 'gzip -6 -c "$0" > "$0.cli.gz"', file]);
    cliMs = performance.now() - t;
    rmSync(`${file}.cli.gz`);
  } catch {
    // no gzip binary: no floor row
  }
  const segments = new LogSegments({ dir, key: 'z.out', gzip: true });
  let ms = 0;
  const busy = await loopDelay(async () => {
    const t0 = performance.now();
    segments.release(Number.POSITIVE_INFINITY);
    while (!segments.segments()[0]?.compressed) await sleep(5);
    ms = performance.now() - t0;
  });
  await segments.close();
  const idle = await loopDelay(async () => {
    const end = performance.now() + ms;
    while (performance.now() < end) await sleep(5);
  });
  return { ms, busy, idle, cliMs };
}

export async function benchOutput(): Promise<Row[]> {
  const scratch = scratchDir('output');
  const rows: Row[] = [];
  try {
    const results = { floor: [] as Measured[], split: [] as Measured[], alone: [] as Measured[], master: [] as Measured[] };
    const steps = [
      async (): Promise<void> => void results.floor.push(await floorCat(scratch.dir)),
      async (round: number): Promise<void> => void results.split.push(await viaSplit(path.join(scratch.dir, `split-${round}`))),
      async (round: number): Promise<void> => void results.master.push(await viaMaster(path.join(scratch.dir, `master-${round}`))),
      async (round: number): Promise<void> => void results.alone.push(await viaSplitOnly(path.join(scratch.dir, `alone-${round}`))),
    ];
    for (let round = 0; round < ROUNDS; round++) {
      note(`output: round ${round + 1}/${ROUNDS}`);
      // ABC, then CBA: no side always runs first (warm caches) or last.
      for (const step of round % 2 === 0 ? steps : [...steps].reverse()) await step(round);
    }
    const median = (list: Measured[], pick: (m: Measured) => number | null): number => summarize(list.map((m) => pick(m) ?? Number.NaN)).p50;
    const floorMs = median(results.floor, (m) => m.ms);
    const floorText = `${fmt(floorMs)} cat > file`;
    const spread = (list: Measured[]): string => {
      const s = summarize(list.map((m) => mbps(m.ms)));
      return `${s.min.toFixed(0)}–${s.max.toFixed(0)} MiB/s over ${list.length}`;
    };
    // Each round's ratio to the floor measured next to it, then the median: drift in outside load cancels.
    const ratioOf = (list: Measured[]): number => summarize(list.map((m, i) => results.floor[i]!.ms / m.ms)).p50;
    const splitMs = median(results.split, (m) => m.ms);
    const masterMs = median(results.master, (m) => m.ms);
    // The target is the process worker's path (split); the master-written path is the fallback and the thread path, reported.
    rows.push({ name: 'output: 200 MiB flood, split writes the files (process workers)', value: fmt(splitMs), spread: spread(results.split), floor: floorText, ratio: `${ratioOf(results.split).toFixed(2)}x`, target: '≥ 0.8x floor', status: verdict(ratioOf(results.split) >= 0.8) });
    const aloneMs = median(results.alone, (m) => m.ms);
    rows.push({ name: 'output: 200 MiB flood, split alone (nobody follows the files)', value: fmt(aloneMs), spread: spread(results.alone), floor: floorText, ratio: `${ratioOf(results.alone).toFixed(2)}x`, target: 'report', status: 'info' });
    rows.push({ name: 'output: 200 MiB flood, the master writes the files (threads, fallback)', value: fmt(masterMs), spread: spread(results.master), floor: floorText, ratio: `${ratioOf(results.master).toFixed(2)}x`, target: 'report', status: 'info' });
    const pm2 = loadPm2(path.join(scratch.dir, 'pm2-home'));
    let pm2Cpu: number | null = null;
    if (pm2 === undefined) note('output: pm2 not installed, no peer row');
    else {
      note('output: pm2');
      const m = await viaPm2(pm2, scratch.dir);
      pm2Cpu = m.cpu;
      rows.push({ name: 'output: 200 MiB flood, PM2 7 (its daemon writes the file)', value: fmt(m.ms), spread: '', floor: floorText, ratio: `${(floorMs / m.ms).toFixed(2)}x`, target: 'peer', status: 'info' });
    }
    const peer = pm2Cpu === null ? '' : `PM2 daemon ${pm2Cpu.toFixed(0)} %`;
    rows.push({ name: 'output: capturing CPU during the flood, split path (master follows + budgets)', value: `${median(results.split, (m) => m.cpu).toFixed(0)} % of a core`, spread: '', floor: peer, ratio: '', target: 'report', status: 'info' });
    rows.push({ name: 'output: capturing CPU during the flood, master-written path', value: `${median(results.master, (m) => m.cpu).toFixed(0)} % of a core`, spread: '', floor: peer, ratio: '', target: 'report', status: 'info' });

    note('output: gzip');
    const gz = await benchGzip(scratch.dir);
    const gzRate = (ms: number): string => `${(FLOOD_MIB / (ms / 1000)).toFixed(0)} MiB/s`;
    rows.push({
      name: 'output: gzip of a 200 MiB segment (node:zlib, off the loop)',
      value: gzRate(gz.ms),
      spread: '',
      floor: gz.cliMs === null ? 'no gzip binary' : `${gzRate(gz.cliMs)} gzip -6`,
      ratio: gz.cliMs === null ? '' : `${(gz.cliMs / gz.ms).toFixed(2)}x`,
      target: 'report',
      status: 'info',
    });
    // On a shared machine the delay is mostly the scheduler (the idle row shows how much); the
    // utilization says how much of the loop compression itself takes.
    const stall = (d: LoopDelay): string => `max ${d.maxMs.toFixed(1)} ms / p99 ${d.p99Ms.toFixed(1)} ms`;
    rows.push({ name: 'output: event-loop delay while gzip runs (max / p99)', value: stall(gz.busy), spread: '', floor: `${stall(gz.idle)} idle loop`, ratio: '', target: 'p99 < 20 ms', status: verdict(gz.busy.p99Ms < 20) });
    rows.push({ name: 'output: event-loop utilization while gzip runs', value: `${(gz.busy.elu * 100).toFixed(1)} %`, spread: '', floor: `${(gz.idle.elu * 100).toFixed(1)} % idle loop`, ratio: '', target: 'report', status: 'info' });
  } finally {
    scratch.remove();
  }
  return rows;
}
