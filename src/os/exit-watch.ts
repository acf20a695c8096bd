/**
 * Exit detection for a process that is not our child (adopted after a master restart, or
 * unmanaged). Node cannot reach pidfd_open/poll, waitid works only for children, and the proc
 * connector needs a native addon, so this is a fast poll of /proc/PID/stat for the watched pids
 * only: one timer for all of them, one pread per pid per tick on a descriptor opened once. A
 * /proc/PID file opened while the process lived fails with ESRCH once it is reaped, even if the pid
 * is reused later, so the descriptor itself carries the identity (see docs/os.md for the cost).
 * A v2 cgroup adds an event: cgroup.events turns "populated 0" the moment the group empties,
 * and fs.watch (inotify on cgroupfs) reports that without waiting for the next tick.
 */
import { closeSync, openSync, readSync, watch, type FSWatcher } from 'node:fs';
import { readControl } from './cgroups/control-files.js';
import { readStat, type Identity } from './proc-stat.js';

export interface ExitInfo {
  readonly pid: number;
  /** gone: no such pid; zombie: exited, waiting for its parent; recycled: the pid names another process; cgroup-empty: its v2 group emptied. */
  readonly reason: 'gone' | 'zombie' | 'recycled' | 'cgroup-empty';
  readonly detected_at: number;
}

export interface ExitWatchOptions {
  /** v2 cgroup.events of the process's group (WorkerCgroup.eventsFile). */
  readonly eventsFile?: string;
}

interface Entry {
  readonly identity: Identity;
  readonly onExit: (info: ExitInfo) => void;
  /** /proc/PID/stat, opened once the identity was confirmed; undefined = already known to be gone. */
  fd?: number;
  early?: ExitInfo['reason'];
  watcher?: FSWatcher;
}

const buffer = Buffer.allocUnsafe(1024);
const CLOSE_PAREN = 0x29;
const ZOMBIE = 0x5a;

/** Opens the stat file and checks, once, that the pid still names this identity. */
function open(entry: Entry): void {
  let fd: number;
  try {
    fd = openSync(`/proc/${entry.identity.pid}/stat`, 'r');
  } catch {
    entry.early = 'gone';
    return;
  }
  const stat = readStat(entry.identity.pid);
  if (stat === undefined || stat.startTimeTicks !== entry.identity.startTimeTicks) {
    closeSync(fd);
    entry.early = stat === undefined ? 'gone' : 'recycled';
    return;
  }
  entry.fd = fd;
}

/** One pread: ESRCH once the process is reaped; the state letter after the last ')' otherwise. */
function exitReason(entry: Entry): ExitInfo['reason'] | undefined {
  if (entry.fd === undefined) return entry.early ?? 'gone';
  let n: number;
  try {
    n = readSync(entry.fd, buffer, 0, buffer.length, 0);
  } catch {
    return 'gone';
  }
  const close = buffer.lastIndexOf(CLOSE_PAREN, n - 1);
  return close >= 0 && buffer[close + 2] === ZOMBIE ? 'zombie' : undefined;
}

/** Polls every watched identity on one timer, which runs only while something is watched. */
export class ExitPoller {
  private readonly entries = new Set<Entry>();
  private timer: NodeJS.Timeout | undefined;

  // 100 ms: a Node timer wakeup costs ~0.2 ms of CPU, so 10 a second is ~0.3 % of a core for 20 pids (docs/os.md).
  constructor(readonly intervalMs = 100) {}

  get size(): number {
    return this.entries.size;
  }

  watch(identity: Identity, onExit: (info: ExitInfo) => void, options: ExitWatchOptions = {}): () => void {
    const entry: Entry = { identity, onExit };
    open(entry);
    this.entries.add(entry);
    if (options.eventsFile !== undefined) this.watchEvents(entry, options.eventsFile);
    this.timer ??= setInterval(() => this.tick(), this.intervalMs);
    return () => this.dispose(entry);
  }

  private watchEvents(entry: Entry, file: string): void {
    try {
      entry.watcher = watch(file, () => {
        if (/^populated 0$/m.test(readControl(file) ?? 'populated 0')) this.fire(entry, 'cgroup-empty');
      });
      entry.watcher.on('error', () => entry.watcher?.close()); // the group was removed: polling remains
    } catch {
      // no inotify on this file: polling remains
    }
  }

  private tick(): void {
    for (const entry of [...this.entries]) {
      const reason = exitReason(entry);
      if (reason !== undefined) this.fire(entry, reason);
    }
  }

  private fire(entry: Entry, reason: ExitInfo['reason']): void {
    if (!this.entries.has(entry)) return;
    this.dispose(entry);
    entry.onExit({ pid: entry.identity.pid, reason, detected_at: Date.now() });
  }

  private dispose(entry: Entry): void {
    entry.watcher?.close();
    if (entry.fd !== undefined) closeSync(entry.fd);
    entry.fd = undefined;
    this.entries.delete(entry);
    if (this.entries.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  close(): void {
    for (const entry of [...this.entries]) this.dispose(entry);
  }
}

const shared = new ExitPoller();

/**
 * Calls onExit once when the process exits (or its pid is recycled); returns the disposer.
 * Detection latency is at most the poll interval (100 ms) plus the callback's turn of the loop.
 */
export function watchExit(identity: Identity, onExit: (info: ExitInfo) => void, options: ExitWatchOptions = {}): () => void {
  return shared.watch(identity, onExit, options);
}
