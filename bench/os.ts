/**
 * The OS toolkit's costs. Sampler: one /proc pass for 50 real idle Node workers, beside its floor
 * (a bare readFileSync of /proc/PID/stat for each of the 50 pids: the least any /proc sampler
 * must do) and the peer PM2 uses (pidusage), then the real thing: the sampler ticking every
 * second for 10 s, its CPU as a percent of one core (target < 1 %) and the master's RSS growth.
 * Exit watch: latency from SIGKILL to the callback for a process that is not our child, beside
 * the floor a child gets for free (the 'exit' event via SIGCHLD), and the poller's CPU for 20 pids.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { CgroupManager, detectCgroups, identityOf, ProcSampler, watchExit, type Identity } from '../src/os/index.js';
import { fixture, note, sleep, verdict, type Row } from './common.js';
import { summarize } from './stats.js';

const WORKERS = 50;
const PASSES = 100;
const ROUNDS = 5;
const TICK_MS = 1_000;
const TICKING_MS = 10_000;

type PidUsage = ((pids: number[]) => Promise<Record<string, { cpu: number; memory: number }>>) & { clear(): void };
const pidusage = createRequire(import.meta.url)('pidusage') as PidUsage;

async function startIdle(n: number): Promise<ChildProcess[]> {
  const children: ChildProcess[] = [];
  for (let i = 0; i < n; i++) {
    const child = spawn(process.execPath, [fixture('os-idle.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    await once(child.stdout!, 'data');
  }
  return children;
}

async function stopAll(children: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await once(child, 'exit');
    }),
  );
}

/** ms per pass of `pass`, the median of ROUNDS segments of PASSES passes. */
async function perPass(pass: () => unknown): Promise<number> {
  const segments: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    for (let i = 0; i < PASSES; i++) await pass();
    segments.push((performance.now() - start) / PASSES);
  }
  return summarize(segments).p50;
}

const ms = (x: number): string => `${x.toFixed(3)} ms`;
const pct = (x: number): string => `${x.toFixed(3)} %`;

export async function benchSampler(): Promise<Row[]> {
  const children = await startIdle(WORKERS);
  try {
    const pids = children.map((c) => c.pid!);
    const sampler = new ProcSampler();
    pids.forEach((pid, i) => sampler.watch(`w${i}`, identityOf(pid)!));
    const processes = execFileSync('sh', ['-c', 'ls -d /proc/[0-9]* | wc -l'], { encoding: 'utf8' }).trim();
    note(`os:sampler: ${WORKERS} idle workers, ${processes} processes on the machine`);
    const floorPass = (): void => {
      for (const pid of pids) readFileSync(`/proc/${pid}/stat`, 'latin1');
    };
    // Warm both, then alternate (floor, sampler, sampler, floor) so outside load hits both alike.
    await perPass(floorPass);
    await perPass(() => sampler.sample());
    const floor: number[] = [];
    const ours: number[] = [];
    for (let i = 0; i < 2; i++) {
      floor.push(await perPass(floorPass));
      ours.push(await perPass(() => sampler.sample()));
      ours.push(await perPass(() => sampler.sample()));
      floor.push(await perPass(floorPass));
    }
    const floorMs = summarize(floor).p50;
    const oursMs = summarize(ours).p50;
    const peerMs = await perPass(() => pidusage(pids));
    pidusage.clear();

    // This process idle with its 50 children, no sampler: what the ticking run is measured against.
    const idleBefore = process.cpuUsage();
    const idleWall = performance.now();
    await sleep(TICKING_MS / 2);
    const idle = process.cpuUsage(idleBefore);
    const idlePercent = ((idle.user + idle.system) / 1000 / (performance.now() - idleWall)) * 100;

    // The real thing: a 1 s timer for 10 s, CPU of this whole process over that time.
    const rssBefore = process.memoryUsage().rss;
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    let ticks = 0;
    sampler.start(TICK_MS, () => ticks++, (error) => note(`sampler error: ${String(error)}`));
    await sleep(TICKING_MS);
    sampler.close();
    const cpu = process.cpuUsage(cpuBefore);
    const wall = performance.now() - wallBefore;
    const cpuPercent = ((cpu.user + cpu.system) / 1000 / wall) * 100;
    const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    const floorPercent = (floorMs / TICK_MS) * 100;
    const grouped = await groupedPass(children);
    return [
      { name: `os sampler: one pass, ${WORKERS} workers (${processes} procs)`, value: ms(oursMs), spread: '', floor: `${ms(floorMs)} (bare stat reads)`, ratio: `${(oursMs / floorMs).toFixed(1)}x`, target: '—', status: 'info' },
      { name: `peer pidusage (PM2): one pass, ${WORKERS} pids, root only`, value: ms(peerMs), spread: '', floor: `${ms(oursMs)} (hsu sampler)`, ratio: `${(peerMs / oursMs).toFixed(1)}x`, target: '—', status: 'info' },
      { name: `os sampler: CPU at 1 s ticks, ${WORKERS} workers, ${ticks} ticks (whole process)`, value: pct(cpuPercent), spread: '', floor: `${pct(floorPercent)} (bare stat reads at 1 Hz)`, ratio: `${(cpuPercent / floorPercent).toFixed(1)}x`, target: '< 1 % of one core', status: verdict(cpuPercent < 1) },
      { name: 'os sampler: the same process idle, no sampler', value: pct(idlePercent), spread: '', floor: '—', ratio: '—', target: '—', status: 'info' },
      ...(grouped === undefined
        ? []
        : [{ name: `os sampler: one pass, ${WORKERS} workers each in a ${grouped.mode} group`, value: ms(grouped.ms), spread: '', floor: `${ms(floorMs)} (bare stat reads)`, ratio: `${(grouped.ms / floorMs).toFixed(1)}x`, target: '—', status: 'info' as const }]),
      { name: 'os sampler: master RSS growth over the 10 s run', value: `${rssGrowthMb.toFixed(1)} MB`, spread: '', floor: '—', ratio: '—', target: '—', status: 'info' },
    ];
  } finally {
    await stopAll(children);
  }
}

/**
 * The same pass with every worker in its own cgroup: the members are the tree, so no full /proc
 * scan. The groups are removed afterwards (which kills the workers: this runs last).
 */
async function groupedPass(children: readonly ChildProcess[]): Promise<{ mode: string; ms: number } | undefined> {
  const support = detectCgroups({ parent: `hsu-bench-${process.pid}` });
  if (support.mode === 'poll') return undefined;
  const manager = new CgroupManager({ support });
  const groups = await Promise.all(children.map((_, i) => manager.create(`w${i}`)));
  try {
    const sampler = new ProcSampler();
    children.forEach((child, i) => {
      groups[i]!.addPid(child.pid!);
      sampler.watch(`w${i}`, identityOf(child.pid!)!, { cgroup: groups[i]! });
    });
    await perPass(() => sampler.sample());
    return { mode: support.mode, ms: await perPass(() => sampler.sample()) };
  } finally {
    for (const group of groups) await group.remove();
    manager.removeParentIfEmpty();
  }
}

/** A sleep whose parent (a shell) exits at once: not our child, like an adopted worker. */
function orphan(): Identity {
  const pid = Number(execFileSync('/bin/sh', ['-c', 'sleep 1000 </dev/null >/dev/null 2>&1 & echo $!'], { encoding: 'utf8' }).trim());
  return identityOf(pid)!;
}

const RUNS = 30;

export async function benchExit(): Promise<Row[]> {
  const watched: number[] = [];
  const floor: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const id = orphan();
    const seen = new Promise<number>((resolve) => watchExit(id, () => resolve(performance.now())));
    await sleep(Math.random() * 100); // land anywhere in the poll interval
    const t0 = performance.now();
    process.kill(id.pid, 'SIGKILL');
    watched.push((await seen) - t0);

    const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
    await once(child, 'spawn');
    const exited = once(child, 'exit');
    const t1 = performance.now();
    child.kill('SIGKILL');
    await exited;
    floor.push(performance.now() - t1);
  }
  const w = summarize(watched);
  const f = summarize(floor);

  // Poller cost: 20 non-child pids watched for 5 s.
  const ids = Array.from({ length: 20 }, orphan);
  const disposers = ids.map((id) => watchExit(id, () => undefined));
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  await sleep(5_000);
  const cpu = process.cpuUsage(cpuBefore);
  const cpuPercent = ((cpu.user + cpu.system) / 1000 / (performance.now() - wallBefore)) * 100;
  for (const dispose of disposers) dispose();
  for (const id of ids) process.kill(id.pid, 'SIGKILL');
  return [
    { name: 'exit watch: SIGKILL -> callback, non-child (100 ms poll)', value: ms(w.p50), spread: `${ms(w.p90)} / ${ms(w.p99)}`, floor: `${ms(f.p50)} (own child 'exit')`, ratio: `${(w.p50 / f.p50).toFixed(1)}x`, target: '< 1 s (no seconds-long polling)', status: verdict(w.p99 < 1_000) },
    { name: 'exit watch: CPU, 20 non-child pids watched', value: pct(cpuPercent), spread: '', floor: '—', ratio: '—', target: '—', status: 'info' },
  ];
}
