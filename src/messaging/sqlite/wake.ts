/**
 * Wake-up without a polling delay. A commit by any process writes the file's `-wal`; inotify
 * (fs.watch on the directory, which survives the WAL being deleted and re-created) reports it
 * within microseconds. `PRAGMA data_version` on this log's own connection then tells a real
 * change by another connection from noise (our own commits, other files in the directory), and
 * a slow safety poll of the same pragma covers file systems where inotify stays silent.
 * Commits through this log's own connection wake its watchers directly.
 *
 * The writer updates the WAL index (in the memory-mapped -shm, which inotify does not see) just
 * after its last write to -wal, so a check run on the event itself can come a few microseconds
 * too early. An event that showed no change is therefore checked again on the next few turns of
 * the event loop (microseconds apart), then after 1, 2, 4, 8 and 16 ms (a writer preempted
 * between the two steps, as happens on a loaded machine).
 */
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

const RECHECK_DELAYS_MS = [1, 2, 4, 8, 16];
const SPIN_TURNS = 16;

export interface WakeOptions {
  /** Interval of the safety poll. Default 1000 ms. */
  readonly safetyPollMs?: number;
}

export class FileWake {
  private readonly listeners = new Set<() => void>();
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private checkScheduled = false;
  private recheck: NodeJS.Timeout | undefined;
  private rechecksLeft = 0;
  private spinsLeft = 0;
  private notifyScheduled = false;
  private lastVersion: number;
  /** 'inotify' normally; 'poll' when the file system refused a watch (then only the poll wakes). */
  mode: 'inotify' | 'poll' | 'idle' = 'idle';
  /** Watchers woken: at once, after spinning turns, after a timed re-check, by the safety poll. */
  readonly wakes = { immediate: 0, spun: 0, rechecked: 0, polled: 0, local: 0 };

  constructor(
    private readonly file: string,
    /** Reads PRAGMA data_version on the log's connection; throws once the connection is closed. */
    private readonly dataVersion: () => number,
    private readonly options: WakeOptions = {},
  ) {
    this.lastVersion = this.safeVersion();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.arm();
    return () => {
      if (!this.listeners.delete(listener)) return;
      if (this.listeners.size === 0) this.disarm();
    };
  }

  /** This process committed through the log's connection: wake its watchers once, soon. */
  localCommit(): void {
    if (this.notifyScheduled || this.listeners.size === 0) return;
    this.notifyScheduled = true;
    queueMicrotask(this.notify);
  }

  close(): void {
    this.listeners.clear();
    this.disarm();
  }

  get active(): boolean {
    return this.watcher !== undefined || this.poll !== undefined;
  }

  private arm(): void {
    this.lastVersion = this.safeVersion();
    const base = path.basename(this.file);
    const related = new Set([base, `${base}-wal`, `${base}-journal`]);
    try {
      this.watcher = watch(path.dirname(this.file), { persistent: true }, (_event, name) => {
        if (name === null || related.has(name)) this.scheduleCheck();
      });
      this.watcher.on('error', () => this.fallBackToPoll());
      this.mode = 'inotify';
    } catch {
      this.watcher = undefined;
      this.mode = 'poll';
    }
    const ms = this.options.safetyPollMs ?? 1000;
    this.poll = setInterval(() => this.check('polled'), this.mode === 'poll' ? Math.min(ms, 50) : ms);
  }

  private fallBackToPoll(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.mode = 'poll';
    clearInterval(this.poll);
    this.poll = setInterval(() => this.check('polled'), Math.min(this.options.safetyPollMs ?? 1000, 50));
  }

  private disarm(): void {
    clearTimeout(this.recheck);
    this.recheck = undefined;
    this.watcher?.close();
    this.watcher = undefined;
    clearInterval(this.poll);
    this.poll = undefined;
    this.mode = 'idle';
  }

  /** A burst of inotify events (one per WAL page written) becomes one check. */
  private scheduleCheck(): void {
    this.rechecksLeft = RECHECK_DELAYS_MS.length;
    this.spinsLeft = SPIN_TURNS;
    if (this.checkScheduled) return;
    this.checkScheduled = true;
    setImmediate(this.onEvent);
  }

  private readonly onEvent = (): void => {
    this.checkScheduled = false;
    if (this.check(this.spinsLeft === SPIN_TURNS ? 'immediate' : 'spun')) return;
    if (this.spinsLeft > 0) {
      this.spinsLeft--;
      this.checkScheduled = true;
      setImmediate(this.onEvent);
      return;
    }
    // A writer preempted between its -wal write and its -shm update (a loaded machine) shows its
    // commit later: re-check from the shortest delay again, whatever an earlier event scheduled.
    clearTimeout(this.recheck);
    this.recheck = undefined;
    this.rechecksLeft = RECHECK_DELAYS_MS.length;
    this.scheduleRecheck();
  };

  private scheduleRecheck(): void {
    const delay = RECHECK_DELAYS_MS[RECHECK_DELAYS_MS.length - this.rechecksLeft] ?? 16;
    this.rechecksLeft--;
    this.recheck = setTimeout(() => {
      this.recheck = undefined;
      if (!this.check('rechecked') && this.rechecksLeft > 0) this.scheduleRecheck();
    }, delay);
  }

  /** True when another connection committed since the last check (and the watchers were told). */
  private check(how: 'immediate' | 'spun' | 'rechecked' | 'polled'): boolean {
    if (this.listeners.size === 0) return false;
    const version = this.safeVersion();
    if (version === this.lastVersion) return false;
    this.lastVersion = version;
    this.rechecksLeft = 0;
    this.spinsLeft = 0;
    this.wakes[how]++;
    this.notifyAll();
    return true;
  }

  private readonly notify = (): void => {
    this.notifyScheduled = false;
    this.wakes.local++;
    this.notifyAll();
  };

  private notifyAll(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private safeVersion(): number {
    try {
      return this.dataVersion();
    } catch {
      return this.lastVersion;
    }
  }
}
