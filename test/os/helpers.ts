// Shared by the os tests: fixture paths, children that are always killed, bounded waits, leftovers.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CgroupManager, identityOf, listDescendants, type CgroupSupport } from '../../src/os/index.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export function osFixture(name: string): string {
  return path.join(repoRoot, 'test', 'os', 'fixtures', name);
}

/** Every child a test starts; `killAll` ends them (SIGKILL) in after(). */
export class Children {
  private readonly list: ChildProcess[] = [];
  private readonly extraPids = new Set<number>();

  spawn(file: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'], ...options });
    this.list.push(child);
    return child;
  }

  /** A pid started indirectly (a daemon of a fixture): killed in killAll too. */
  track(pid: number): void {
    this.extraPids.add(pid);
  }

  /** Spawns and resolves with the words of the child's "ready ..." line. */
  async ready(file: string, args: readonly string[], options: SpawnOptions = {}): Promise<{ child: ChildProcess; words: string[] }> {
    const child = this.spawn(file, args, options);
    const line = await firstLine(child);
    const words = line.split(' ');
    if (words[0] !== 'ready') throw new Error(`expected a ready line, got ${JSON.stringify(line)}`);
    for (const word of words.slice(2)) this.track(Number(word));
    return { child, words: words.slice(1) };
  }

  async killAll(): Promise<void> {
    // Grandchildren first: once a child dies its own children are reparented and unfindable.
    for (const child of this.list) {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) for (const pid of listDescendants(child.pid)) this.extraPids.add(pid);
    }
    for (const pid of this.extraPids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    for (const child of this.list) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    }
    // Nothing left behind: every process a test started or learned of is gone (reaped by init if orphaned).
    const known = [...this.extraPids, ...this.list.map((c) => c.pid ?? 0)].filter((pid) => pid > 0);
    await waitFor(`no leftover processes (${known.filter(running).join(', ')})`, () => (known.some(running) ? undefined : true), 5_000);
    const stray = liveChildren();
    if (stray.length > 0) throw new Error(`children still alive: ${stray.join(', ')}`);
  }
}

export async function firstLine(child: ChildProcess): Promise<string> {
  let buffered = '';
  for await (const chunk of child.stdout ?? []) {
    buffered += String(chunk);
    const newline = buffered.indexOf('\n');
    if (newline >= 0) return buffered.slice(0, newline);
  }
  throw new Error(`child exited (code ${child.exitCode}, signal ${child.signalCode}) before printing a line: ${buffered}`);
}

export async function allOutput(child: ChildProcess): Promise<string> {
  let out = '';
  for await (const chunk of child.stdout ?? []) out += String(chunk);
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a value other than undefined; throws after `timeoutMs` (a bound, not a timing claim). */
export async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 10_000, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() >= deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Alive and not a zombie. */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Live children of this test process (the "nothing left behind" check). */
export function liveChildren(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(rest[1]) === process.pid && rest[0] !== 'Z';
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Directories under `dir` (empty when it does not exist). */
export function subdirs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
}

/** Runs a Node fixture with the project's Node. */
export const NODE = process.execPath;

/** ppid, pgid and sid of a live process, from /proc. */
export function readStatOf(pid: number): { ppid: number; pgid: number; sid: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(rest[1]), pgid: Number(rest[2]), sid: Number(rest[3]) };
}

/** The cgroup manager of a master that has died: its tag names a process that ran and was killed. */
export async function deadMastersManager(children: Children, support: CgroupSupport): Promise<CgroupManager> {
  const { child: ghost } = await children.ready(NODE, [osFixture('idle.mjs')]);
  const id = identityOf(ghost.pid as number);
  if (id === undefined) throw new Error('no identity for the ghost master');
  ghost.kill('SIGKILL');
  await once(ghost, 'exit');
  return new CgroupManager({ support, instanceTag: `m${id.pid}s${id.startTimeTicks}` });
}
