/**
 * The three sides of the PM2 comparison, driven the way a user drives them: hsu through its real
 * CLI (`dist/src/cli/bin.js`, a daemon started with `hsu run -d`), PM2 7 through its CLI with
 * PM2_HOME in a scratch directory, and the floor (raw node:child_process in a tiny supervisor,
 * bench/fixtures/footprint-floor-supervisor.mjs). Every child is footprint-announce.mjs: it prints
 * its first stdout line and, at the same moment, sends its pid to the benchmark's unix socket,
 * so all three are timed by one clock. Restart policies: hsu's default except `reset_after: 1s` and
 * a large intensity limit (PM2's default `min_uptime` is 1 s and it never gives up on a stable
 * child), so every sample, taken >1 s after the previous one, is a "first restart after a stable run".
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fixture, repoRoot } from './common.js';

export const HSU = path.join(repoRoot, 'dist', 'src', 'cli', 'bin.js');
export const PM2 = path.join(repoRoot, 'node_modules', 'pm2', 'bin', 'pm2');
const ANNOUNCE = fixture('footprint-announce.mjs');
const FLOOR = fixture('footprint-floor-supervisor.mjs');
const NODE = process.execPath;

/** Receives every child's "I am up" (its pid) with the time it arrived. */
export class Announcements {
  private readonly server: Server;
  private waiters: { count: number; arrived: { pid: number; at: number }[]; resolve: (a: { pid: number; at: number }[]) => void }[] = [];

  private constructor(readonly socketPath: string) {
    this.server = createServer((socket) => {
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('end', () => this.arrive(Number(text.trim()), performance.now()));
      socket.on('error', () => undefined);
    });
  }

  static async open(dir: string): Promise<Announcements> {
    const a = new Announcements(path.join(dir, 'announce.sock'));
    a.server.listen(a.socketPath);
    await once(a.server, 'listening');
    return a;
  }

  /** The next `count` announcements (pid, arrival time), in arrival order. */
  next(count: number): Promise<{ pid: number; at: number }[]> {
    return new Promise((resolve) => this.waiters.push({ count, arrived: [], resolve }));
  }

  private arrive(pid: number, at: number): void {
    const waiter = this.waiters[0];
    if (waiter === undefined) return; // nobody is timing this one (e.g. a warm-up)
    waiter.arrived.push({ pid, at });
    if (waiter.arrived.length === waiter.count) {
      this.waiters.shift();
      waiter.resolve(waiter.arrived);
    }
  }

  async close(): Promise<void> {
    this.server.close();
    await once(this.server, 'close');
  }
}

/** argv of one announcing child: idle, or flooding `mib` MiB. */
export function childArgs(socketPath: string, mode: 'idle' | 'flood' = 'idle', mib = 0): string[] {
  return [ANNOUNCE, socketPath, mode, String(mib)];
}

export function cli(bin: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): string {
  const result = spawnSync(NODE, [bin, ...args], { cwd, env, encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) throw new Error(`${path.basename(bin)} ${args.join(' ')} failed (${result.status}): ${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** Wall time of one CLI run (spawn to exit). */
export function wall(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(NODE, args, { cwd, env, stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`${args.join(' ')} exited with ${code}`))));
  });
}

export function rssOf(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return kb === undefined ? 0 : Number(kb) * 1024;
}

/**
 * Proportional set size: RSS with every shared page divided among the processes that map it. The
 * node binary's pages (V8, the embedded undici and built-in modules) are shared with every Node
 * child, so PSS is what a supervisor really adds to the machine; RSS counts them whole.
 */
export function pssOf(pid: number): number {
  const kb = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1];
  return kb === undefined ? 0 : Number(kb) * 1024;
}

/** CPU ticks (user + system, 10 ms each) a process has used so far. */
export function ticksOf(pid: number): number {
  const rest = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(rest[11]) + Number(rest[12]);
}

export interface App {
  readonly name: string;
  readonly args: readonly string[];
  /** false: a child that exits 0 stays down (the flood). */
  readonly restart: boolean;
}

/** An hsu project directory: hsu.yaml with one process worker per app, logs under ./logs. */
export function hsuProject(dir: string, apps: readonly App[]): void {
  mkdirSync(dir, { recursive: true });
  const worker = (a: App): string =>
    `  - id: ${a.name}\n    type: process\n    execution: { executable_path: ${JSON.stringify(NODE)}, args: ${JSON.stringify(a.args)} }\n` +
    `    restart: { policy: ${a.restart ? 'on-failure' : 'never'}, reset_after: 1s, intensity: { max_restarts: 1000, window: 60s } }\n`;
  writeFileSync(path.join(dir, 'hsu.yaml'), `workers:\n${apps.map(worker).join('')}`);
}

export function hsuMasterPid(dir: string): number {
  return Number(readFileSync(path.join(dir, '.hsu', 'master.pid'), 'utf8').trim());
}

/** PM2's ecosystem file for the same apps, logs under <home>/logs. */
export function pm2Ecosystem(home: string, apps: readonly App[]): string {
  mkdirSync(home, { recursive: true });
  const file = path.join(home, 'ecosystem.config.cjs');
  const list = apps.map((a) => ({
    name: a.name,
    script: a.args[0],
    args: a.args.slice(1),
    interpreter: NODE,
    autorestart: a.restart,
    out_file: path.join(home, 'logs', `${a.name}.out.log`),
    error_file: path.join(home, 'logs', `${a.name}.err.log`),
  }));
  writeFileSync(file, `module.exports = { apps: ${JSON.stringify(list)} };\n`);
  return file;
}

export function pm2DaemonPid(home: string): number {
  return Number(readFileSync(path.join(home, 'pm2.pid'), 'utf8').trim());
}

/** The floor supervisor: `count` copies of `args`, logs under `dir`. */
export function floorSupervisor(count: number, dir: string, args: readonly string[]): ChildProcess {
  mkdirSync(dir, { recursive: true });
  return spawn(NODE, [FLOOR, String(count), dir, ...args], { stdio: 'ignore' });
}

export async function stopFloor(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/** The environment every side runs in: PM2 in its scratch home, no colours, no update check. */
export function benchEnv(pm2Home: string): NodeJS.ProcessEnv {
  return { ...process.env, PM2_HOME: pm2Home, PM2_DISABLE_VERSION_CHECK: 'true', NO_COLOR: '1' };
}

/** Ends both daemons whatever happened; never throws. */
export function killDaemons(hsuDir: string | undefined, pm2Home: string | undefined, env: NodeJS.ProcessEnv): void {
  if (hsuDir !== undefined) spawnSync(NODE, [HSU, 'shutdown', '--force'], { cwd: hsuDir, env, timeout: 60_000 });
  if (pm2Home !== undefined) spawnSync(NODE, [PM2, 'kill'], { cwd: pm2Home, env, timeout: 60_000 });
}
