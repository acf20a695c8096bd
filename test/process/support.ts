// Shared by the process-depth tests: /proc and cgroupfs checks, loopback ports, processes started
// outside the master (unmanaged targets), and the "ready <pid>" line the fixtures print.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { EventLog } from '../helpers/master-helpers.js';
import { LIVENESS_MS, alivePids, killMarked, waitForMarkerGone } from '../helpers/master-helpers.js';
import { fixture } from '../helpers/paths.js';
import { defaultInstanceTag } from '../../src/os/cgroups/naming.js';

/** Absolute path of a fixture under test/fixtures/process. */
export function processFixture(name: string): string {
  return fixture(path.join('process', name));
}

/** Polls `check` until it returns a value other than undefined/false; fails after the liveness bound. */
export async function until<T>(what: string, check: () => T | undefined | false, timeoutMs = LIVENESS_MS, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The pid printed by a fixture's "ready <pid> ..." line (the n-th such line of the worker). */
export async function readyLine(events: EventLog, id: string, nth = 1): Promise<number[]> {
  const line = await events.waitFor(`ready line #${nth} of ${id}`, () => events.output.filter((e) => e.worker_id === id && e.line.startsWith('ready '))[nth - 1]);
  return line.line.split(' ').slice(1).map(Number);
}

/** Directories of this test process's masters' cgroups, in every hierarchy (hsu.m<our pid>s...). */
export function ownCgroups(): string[] {
  const out: string[] = [];
  // This process's own tag (pid and start time): a leftover of an earlier test process that had the
  // same pid (pids are recycled over a long run) is not this one's.
  const tag = `hsu.${defaultInstanceTag()}`;
  let roots: string[];
  try {
    roots = readdirSync('/sys/fs/cgroup');
  } catch {
    return out;
  }
  for (const root of roots) {
    const parent = path.join('/sys/fs/cgroup', root, 'hsu');
    let entries: string[];
    try {
      entries = readdirSync(parent);
    } catch {
      continue;
    }
    for (const entry of entries) if (entry.startsWith(`${tag}.`) || entry.startsWith(`${tag}n`)) out.push(path.join(parent, entry));
  }
  return out;
}

/** True when something accepts a TCP connection on 127.0.0.1:port. */
export function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A port that was free a moment ago (the kernel's pick for a listener we close at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no address'))));
    });
  });
}

/** Live pids whose command line contains `needle` (arguments joined by spaces). */
export function pidsWithCmdline(needle: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'latin1').split('\0').join(' ').includes(needle)) found.push(Number(name));
    } catch {
      // gone
    }
  }
  return alivePids(found);
}

/** The parent pid of `pid` from /proc, or undefined when it is gone. */
export function ppidOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** A process started by the test itself, not by any master (an unmanaged worker's target). */
export interface Outside {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly ready: Promise<void>;
}

/** Starts `node <fixture> ...args` detached, tagged with `marker`; `ready` resolves at its "ready" line. */
export function startOutside(marker: string, script: string, args: readonly string[], file = process.execPath): Outside {
  const argv = file === process.execPath ? [processFixture(script), ...args] : [...args];
  const child = spawn(file, argv, { detached: true, stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, HSU_TEST_MARKER: marker } });
  child.unref();
  const ready = new Promise<void>((resolve, reject) => {
    let text = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('ready ')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before it was ready`)));
    if (file !== process.execPath) resolve();
  });
  ready.catch(() => undefined);
  return { child, pid: child.pid ?? -1, ready };
}

/** Kills every process of `marker` and waits until none is left. */
export async function killOutside(marker: string): Promise<void> {
  killMarked(marker);
  await waitForMarkerGone(marker);
}

/** Established TCP connections (IPv4 and IPv6) whose remote end is loopback port `port`: the client sides. */
export function clientConnectionsTo(port: number): number {
  let count = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const remote = fields[2];
      if (remote === undefined || fields[3] !== '01') continue; // 01: ESTABLISHED
      if (Number.parseInt(remote.slice(remote.indexOf(':') + 1), 16) === port) count += 1;
    }
  }
  return count;
}
