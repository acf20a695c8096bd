/**
 * Telling a worker's own writes from an edit, so a worker that writes into what it is watched on
 * does not restart itself for ever. A change is the worker's own when
 *   - the file's content did not change (a rewrite of the same bytes, a touch),
 *   - a process of the worker (or, for a module, the master that runs it) holds the file open, or
 *   - it came while the worker was starting or within the settle time after it began running
 *     (a pid file, a cache, a state file written at start).
 * Such files are remembered for the life of the current instance (and while it is down, until the
 * next one starts) and logged once.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { listDescendants } from '../os/proc.js';

/** After a (re)start reaches running, changes during this long are taken as the worker's own doing. */
export const SETTLE_MS = 1_000;
const HASHED_MAX_BYTES = 8 * 1024 * 1024;

/** A fingerprint of a file's content: a hash for files up to 8 MiB, size and mtime above; undefined when it is gone. */
export function fingerprint(file: string): string | undefined {
  try {
    const stat = statSync(file);
    if (!stat.isFile()) return undefined;
    if (stat.size > HASHED_MAX_BYTES) return `${stat.size}:${stat.mtimeMs}`;
    return createHash('sha1').update(readFileSync(file)).digest('base64');
  } catch {
    return undefined;
  }
}

/** Paths the processes hold open (from /proc/<pid>/fd); unreadable processes are skipped. */
export function openFiles(pids: readonly number[]): Set<string> {
  const out = new Set<string>();
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        out.add(readlinkSync(`/proc/${pid}/fd/${fd}`));
      } catch {
        // closed meanwhile
      }
    }
  }
  return out;
}

/** A worker's process and its descendants, or the master itself for a module running in it. */
export function processesOf(pid: number | null, inMaster: boolean): number[] {
  if (inMaster) return [process.pid];
  return pid === null ? [] : [pid, ...listDescendants(pid)];
}

export type Attribution = 'unchanged' | 'own' | 'open' | 'starting' | 'edit';

export class SelfWrites {
  private readonly prints = new Map<string, string | undefined>();
  private readonly own = new Set<string>();
  private phase: 'starting' | 'running' | 'down' = 'down';
  private runningSince = 0;

  /** The content the files have now: what a later change is compared against. */
  remember(files: Iterable<string>): void {
    for (const file of files) this.prints.set(file, fingerprint(file));
  }

  /** A new instance is starting: what the last one wrote is forgotten. */
  starting(): void {
    this.phase = 'starting';
    this.own.clear();
  }

  running(now = Date.now()): void {
    this.phase = 'running';
    this.runningSince = now;
  }

  /** Stopped, failed or waiting to restart: nothing of the worker's writes now, every change is an edit. */
  down(): void {
    this.phase = 'down';
  }

  isOwn(file: string): boolean {
    return this.own.has(file);
  }

  /**
   * Decides what one change is. `learn` (directory watches) lets start-time writes and open files
   * mark the file as the worker's; code files are never learned (a worker does not write its code).
   */
  attribute(file: string, open: () => Set<string>, learn: boolean, now = Date.now()): Attribution {
    const before = this.prints.get(file);
    const after = fingerprint(file);
    const known = this.prints.has(file);
    this.prints.set(file, after);
    if (known && before === after) return 'unchanged';
    if (!learn) return 'edit';
    // Before the phase: a write of the last instance can be delivered after it went down (the
    // watcher's throttle and debounce, a busy loop), and must not restart what just stopped.
    if (this.own.has(file)) return 'own';
    if (this.phase === 'down') return 'edit';
    if (open().has(file)) {
      this.own.add(file);
      return 'open';
    }
    if (this.phase === 'starting' || now - this.runningSince < SETTLE_MS) {
      this.own.add(file);
      return 'starting';
    }
    return 'edit';
  }
}
