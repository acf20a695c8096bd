/**
 * hsu beside PM2 7 (the tool a user would pick instead) and the floor (raw node:child_process),
 * in the same run, each side driven through its CLI: start of 20 processes (cold: daemon included;
 * warm: daemon running), daemon RSS supervising them, `ls` wall time, restart after `kill -9` to the
 * child's first line, and log throughput of a flooding child. Sides alternate round by round (ABC,
 * CBA) so outside load hits them alike; medians are reported. PM2_HOME is a scratch directory and
 * both daemons are ended in `finally`, whatever happened (see peers-pm2-sides.ts for the method).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { TRIM_MIN_SPACING_MS, TRIM_SETTLE_MS } from '../src/master/heap-trim.js';
import { note, scratchDir, sleep, verdict, type Row } from './common.js';
import {
  Announcements, HSU, PM2, benchEnv, childArgs, cli, floorSupervisor, hsuMasterPid, hsuProject, killDaemons, pm2DaemonPid, pm2Ecosystem, pssOf, rssOf, stopFloor, ticksOf, wall, type App,
} from './peers-pm2-sides.js';
import { fmtMs, fmtRatio, summarize } from './stats.js';

const NODE = process.execPath;
const COUNT = 20;
const MB = 1024 * 1024;
const mb = (bytes: number): string => `${(bytes / MB).toFixed(1)} MB`;

interface Sides<T> {
  hsu: T;
  pm2: T;
  floor: T;
}

/** Runs `steps` in ABC order on even rounds and CBA on odd ones. */
async function alternate(rounds: number, steps: readonly (() => Promise<void>)[]): Promise<void> {
  for (let round = 0; round < rounds; round++) for (const step of round % 2 === 0 ? steps : [...steps].reverse()) await step();
}

/** Spawns a CLI command without blocking the loop (announcements must be received meanwhile). */
async function cliAsync(bin: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  const child = spawn(NODE, [bin, ...args], { cwd, env, stdio: 'ignore' });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${path.basename(bin)} ${args.join(' ')} exited with ${code}`);
}

/** Time from `act()` until `count` children announced themselves. */
async function timeToAnnounce(announce: Announcements, count: number, act: () => Promise<unknown>): Promise<number> {
  const arrived = announce.next(count);
  const t0 = performance.now();
  const acting = act();
  const list = await arrived;
  await acting;
  return list[list.length - 1]!.at - t0;
}

function row(name: string, value: number, floor: number, floorName: string, fmt: (x: number) => string): Row {
  return { name, value: fmt(value), spread: '', floor: `${fmt(floor)} ${floorName}`, ratio: fmtRatio(value / floor), target: 'report', status: 'info' };
}

/** Start of 20 processes (cold and warm), daemon RSS with them, and `ls` wall time. */
export async function benchPeersTwenty(rounds = 3, lsSamples = 20): Promise<Row[]> {
  note(`peers: start of ${COUNT} processes, daemon RSS, ls: hsu CLI vs PM2 7 vs raw child_process (${rounds} rounds)...`);
  const scratch = scratchDir('peers');
  const hsuDir = path.join(scratch.dir, 'hsu');
  const pm2Home = path.join(scratch.dir, 'pm2');
  const env = benchEnv(pm2Home);
  const announce = await Announcements.open(scratch.dir);
  const apps: App[] = Array.from({ length: COUNT }, (_, i) => ({ name: `w${i}`, args: childArgs(announce.socketPath), restart: true }));
  hsuProject(hsuDir, apps);
  const ecosystem = pm2Ecosystem(pm2Home, apps);
  let floor = floorSupervisor(0, scratch.dir, []);
  const cold: Sides<number[]> = { hsu: [], pm2: [], floor: [] };
  const warm: Sides<number[]> = { hsu: [], pm2: [], floor: [] };
  try {
    await stopFloor(floor);
    const startCold = {
      hsu: () => timeToAnnounce(announce, COUNT, () => cliAsync(HSU, ['run', '-d', 'hsu.yaml'], hsuDir, env)),
      pm2: () => timeToAnnounce(announce, COUNT, () => cliAsync(PM2, ['start', ecosystem], pm2Home, env)),
      floor: () => timeToAnnounce(announce, COUNT, async () => (floor = floorSupervisor(COUNT, path.join(scratch.dir, 'floor'), childArgs(announce.socketPath)))),
    };
    await alternate(rounds, [
      async () => {
        cold.hsu.push(await startCold.hsu());
        cli(HSU, ['shutdown'], hsuDir, env);
      },
      async () => {
        cold.pm2.push(await startCold.pm2());
        cli(PM2, ['kill'], pm2Home, env);
      },
      async () => {
        cold.floor.push(await startCold.floor());
        await stopFloor(floor);
      },
    ]);
    // All three up at once from here on: warm starts, RSS, ls.
    await startCold.hsu();
    await startCold.pm2();
    await startCold.floor();
    await alternate(rounds, [
      async () => {
        cli(HSU, ['stop', 'all'], hsuDir, env);
        warm.hsu.push(await timeToAnnounce(announce, COUNT, () => cliAsync(HSU, ['start', 'all'], hsuDir, env)));
      },
      async () => {
        cli(PM2, ['stop', 'all'], pm2Home, env);
        warm.pm2.push(await timeToAnnounce(announce, COUNT, () => cliAsync(PM2, ['start', 'all'], pm2Home, env)));
      },
    ]);
    // Settle: children idle, and the master past its own settle (one memory-reducing GC once quiet,
    // at most one per TRIM_MIN_SPACING_MS): RSS as an operator sees it once the starts are over.
    await sleep(TRIM_MIN_SPACING_MS + TRIM_SETTLE_MS);
    const rss: Sides<number> = { hsu: rssOf(hsuMasterPid(hsuDir)), pm2: rssOf(pm2DaemonPid(pm2Home)), floor: rssOf(floor.pid!) };
    const pss: Sides<number> = { hsu: pssOf(hsuMasterPid(hsuDir)), pm2: pssOf(pm2DaemonPid(pm2Home)), floor: pssOf(floor.pid!) };
    const ls: Sides<number[]> = { hsu: [], pm2: [], floor: [] };
    for (let i = 0; i < lsSamples + 3; i++) {
      const n = await wall(['-e', '0'], hsuDir, env);
      const h = await wall([HSU, 'ls'], hsuDir, env);
      const p = await wall([PM2, 'ls'], pm2Home, env);
      if (i < 3) continue; // warm-up: page cache, compile cache
      ls.floor.push(n);
      ls.hsu.push(h);
      ls.pm2.push(p);
    }
    const med = (xs: number[]): number => summarize(xs).p50;
    note(`  cold start of ${COUNT}: hsu run -d ${fmtMs(med(cold.hsu))}, pm2 start ${fmtMs(med(cold.pm2))}, floor ${fmtMs(med(cold.floor))} (all: ${cold.hsu.map(fmtMs).join(' ')} | ${cold.pm2.map(fmtMs).join(' ')} | ${cold.floor.map(fmtMs).join(' ')})`);
    note(`  warm start of ${COUNT}: hsu start all ${fmtMs(med(warm.hsu))}, pm2 start all ${fmtMs(med(warm.pm2))}`);
    note(`  RSS with ${COUNT} children: hsu master ${mb(rss.hsu)}, PM2 daemon ${mb(rss.pm2)}, floor supervisor ${mb(rss.floor)}; PSS ${mb(pss.hsu)}, ${mb(pss.pm2)}, ${mb(pss.floor)}`);
    note(`  ls wall: hsu ${fmtMs(med(ls.hsu))}, pm2 ${fmtMs(med(ls.pm2))}, node -e 0 ${fmtMs(med(ls.floor))}`);
    return [
      row(`peers: start ${COUNT} processes cold, hsu run -d (daemon included)`, med(cold.hsu), med(cold.floor), 'raw spawn', fmtMs),
      row(`peers: start ${COUNT} processes cold, pm2 start (daemon included)`, med(cold.pm2), med(cold.floor), 'raw spawn', fmtMs),
      row(`peers: start ${COUNT} processes cold, hsu against PM2`, med(cold.hsu), med(cold.pm2), 'PM2', fmtMs),
      row(`peers: start ${COUNT} processes warm, hsu start all`, med(warm.hsu), med(warm.pm2), 'pm2 start all', fmtMs),
      row(`peers: daemon RSS with ${COUNT} processes, hsu master`, rss.hsu, rss.floor, 'raw supervisor', mb),
      row(`peers: daemon RSS with ${COUNT} processes, PM2 daemon`, rss.pm2, rss.floor, 'raw supervisor', mb),
      // The issue's target: hsu's master below PM2's daemon supervising the same 20 processes.
      { ...row(`peers: daemon RSS with ${COUNT} processes, hsu against PM2`, rss.hsu, rss.pm2, 'PM2', mb), target: '< PM2', status: verdict(rss.hsu < rss.pm2) },
      row(`peers: daemon PSS (shared pages divided) with ${COUNT} processes, hsu against PM2`, pss.hsu, pss.pm2, 'PM2', mb),
      row(`peers: hsu ls, ${COUNT} processes (wall)`, med(ls.hsu), med(ls.floor), 'node -e 0', fmtMs),
      row(`peers: pm2 ls, ${COUNT} processes (wall)`, med(ls.pm2), med(ls.floor), 'node -e 0', fmtMs),
      row('peers: hsu ls against pm2 ls', med(ls.hsu), med(ls.pm2), 'pm2 ls', fmtMs),
    ];
  } finally {
    killDaemons(hsuDir, pm2Home, env);
    await stopFloor(floor);
    await announce.close();
    scratch.remove();
  }
}

/** kill -9 of the child, to the new child's first line, each side's restart at its defaults (>1 s apart). */
export async function benchPeersRestart(samples = 15): Promise<Row[]> {
  note(`peers: restart after kill -9 to the first line, hsu vs PM2 vs raw respawn (${samples} interleaved samples)...`);
  const scratch = scratchDir('peers-restart');
  const hsuDir = path.join(scratch.dir, 'hsu');
  const pm2Home = path.join(scratch.dir, 'pm2');
  const env = benchEnv(pm2Home);
  const announce = await Announcements.open(scratch.dir);
  const apps: App[] = [{ name: 'victim', args: childArgs(announce.socketPath), restart: true }];
  hsuProject(hsuDir, apps);
  const ecosystem = pm2Ecosystem(pm2Home, apps);
  let floor = floorSupervisor(0, scratch.dir, []);
  try {
    const first = async (act: () => Promise<unknown>): Promise<number> => {
      const [a] = await Promise.all([announce.next(1), act()]);
      return a[0]!.pid;
    };
    const pids = {
      hsu: await first(() => cliAsync(HSU, ['run', '-d', 'hsu.yaml'], hsuDir, env)),
      pm2: await first(() => cliAsync(PM2, ['start', ecosystem], pm2Home, env)),
      floor: await first(async () => (floor = floorSupervisor(1, path.join(scratch.dir, 'floor'), childArgs(announce.socketPath)))),
    };
    const times: Sides<number[]> = { hsu: [], pm2: [], floor: [] };
    const sides = ['hsu', 'pm2', 'floor'] as const;
    for (let i = 0; i < samples + 2; i++) {
      await sleep(1100);
      for (const side of i % 2 === 0 ? sides : [...sides].reverse()) {
        const next = announce.next(1);
        const t0 = performance.now();
        process.kill(pids[side], 'SIGKILL');
        const [a] = await next;
        pids[side] = a!.pid;
        if (i >= 2) times[side].push(a!.at - t0);
      }
    }
    const s = { hsu: summarize(times.hsu), pm2: summarize(times.pm2), floor: summarize(times.floor) };
    note(`  kill -9 -> first line p50: hsu ${fmtMs(s.hsu.p50)}, PM2 ${fmtMs(s.pm2.p50)}, raw respawn ${fmtMs(s.floor.p50)}`);
    const spread = (x: typeof s.hsu): string => `${fmtMs(x.p90)} / ${fmtMs(x.p99)}`;
    return [
      { ...row('peers: restart after kill -9 →1st line, hsu daemon', s.hsu.p50, s.floor.p50, 'raw respawn', fmtMs), spread: spread(s.hsu) },
      { ...row('peers: restart after kill -9 →1st line, PM2 daemon', s.pm2.p50, s.floor.p50, 'raw respawn', fmtMs), spread: spread(s.pm2) },
      row('peers: restart after kill -9, hsu against PM2', s.hsu.p50, s.pm2.p50, 'PM2', fmtMs),
    ];
  } finally {
    killDaemons(hsuDir, pm2Home, env);
    await stopFloor(floor);
    await announce.close();
    scratch.remove();
  }
}

function bytesOf(dir: string, match: RegExp): number {
  try {
    return readdirSync(dir).filter((n) => match.test(n)).reduce((sum, n) => sum + statSync(path.join(dir, n)).size, 0);
  } catch {
    return 0;
  }
}

/** A child floods `mib` MiB to stdout: bytes/s from its start until every byte is in the log file. */
export async function benchPeersLog(rounds = 3, mib = 100): Promise<Row[]> {
  note(`peers: log throughput of a child flooding ${mib} MiB, hsu vs PM2 vs raw pipe-to-file (${rounds} rounds)...`);
  const scratch = scratchDir('peers-log');
  const pm2Home = path.join(scratch.dir, 'pm2');
  const env = benchEnv(pm2Home);
  const announce = await Announcements.open(scratch.dir);
  const apps: App[] = [{ name: 'flood', args: childArgs(announce.socketPath, 'flood', mib), restart: false }];
  const ecosystem = pm2Ecosystem(pm2Home, apps);
  let hsuDir: string | undefined;
  let floor = floorSupervisor(0, scratch.dir, []);
  const rates: Sides<number[]> = { hsu: [], pm2: [], floor: [] };
  const cpu: { hsu: number[]; pm2: number[] } = { hsu: [], pm2: [] };
  /** Starts the flood with `act`, then polls the file sizes every 5 ms until all bytes are there. */
  const flood = async (act: () => Promise<unknown>, bytes: () => number, daemon: () => number | undefined): Promise<{ rate: number; cpu: number | undefined }> => {
    const [a] = await Promise.all([announce.next(1), act()]);
    const { pid, at } = a[0]!;
    const total = mib * MB + `ready ${pid}\n`.length;
    const d = daemon();
    const ticks0 = d === undefined ? 0 : ticksOf(d);
    const deadline = performance.now() + 30_000;
    while (bytes() < total) {
      if (performance.now() > deadline) throw new Error(`flood: ${bytes()} of ${total} bytes after 30 s`);
      await sleep(5);
    }
    const ms = performance.now() - at;
    return { rate: total / MB / (ms / 1000), cpu: d === undefined ? undefined : ((ticksOf(d) - ticks0) * 10 * 100) / ms };
  };
  try {
    let round = 0;
    let floorRound = 0;
    await alternate(rounds, [
      async () => {
        hsuDir = path.join(scratch.dir, `hsu-${round++}`);
        hsuProject(hsuDir, apps);
        const dir = hsuDir;
        const r = await flood(() => cliAsync(HSU, ['run', '-d', 'hsu.yaml'], dir, env), () => bytesOf(path.join(dir, 'logs'), /^flood\.out\.\d+\.log$/), () => hsuMasterPid(dir));
        rates.hsu.push(r.rate);
        cpu.hsu.push(r.cpu!);
        cli(HSU, ['shutdown'], dir, env);
      },
      async () => {
        const r = await flood(() => cliAsync(PM2, ['start', ecosystem], pm2Home, env), () => bytesOf(path.join(pm2Home, 'logs'), /^flood\.out\.log$/), () => pm2DaemonPid(pm2Home));
        rates.pm2.push(r.rate);
        cpu.pm2.push(r.cpu!);
        cli(PM2, ['kill'], pm2Home, env);
        rmSync(path.join(pm2Home, 'logs', 'flood.out.log'), { force: true });
      },
      async () => {
        const dir = path.join(scratch.dir, `floor-${floorRound++}`);
        const r = await flood(async () => (floor = floorSupervisor(1, dir, apps[0]!.args)), () => bytesOf(dir, /^c0\.out\.log$/), () => undefined);
        rates.floor.push(r.rate);
        await stopFloor(floor);
      },
    ]);
    const med = (xs: number[]): number => summarize(xs).p50;
    const rate = (x: number): string => `${x.toFixed(0)} MiB/s`;
    note(`  hsu ${rates.hsu.map(rate).join(' ')}; PM2 ${rates.pm2.map(rate).join(' ')}; floor ${rates.floor.map(rate).join(' ')}; daemon CPU hsu ${med(cpu.hsu).toFixed(0)} %, PM2 ${med(cpu.pm2).toFixed(0)} %`);
    return [
      row(`peers: log throughput, ${mib} MiB flood, hsu daemon`, med(rates.hsu), med(rates.floor), 'raw pipe→file', rate),
      row(`peers: log throughput, ${mib} MiB flood, PM2 daemon`, med(rates.pm2), med(rates.floor), 'raw pipe→file', rate),
      row('peers: log throughput, hsu against PM2', med(rates.hsu), med(rates.pm2), 'PM2', rate),
      { name: 'peers: daemon CPU during the flood (hsu master / PM2 daemon)', value: `${med(cpu.hsu).toFixed(0)} % of a core`, spread: '', floor: `${med(cpu.pm2).toFixed(0)} % PM2`, ratio: '', target: 'report', status: 'info' },
    ];
  } finally {
    killDaemons(hsuDir, pm2Home, env);
    await stopFloor(floor);
    await announce.close();
    scratch.remove();
  }
}
