/**
 * Wake-up without a polling delay. A commit by any process writes the file's `-wal`; inotify
 * (fs.watch on the directory, which survives the WAL being deleted and re-created) reports it
 * within microseconds. `PRAGMA data_version` on this log's own connection then tells a real
 * change by another connection from noise (our own commits, other files in the directory), and
 * a slow safety poll of the same pragma covers file systems where inotify stays silent.
 * Commits through this log's own connection wake its watchers directly.
 */
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

export interface WakeOptions {
  /** Interval of the safety poll. Default 1000 ms. */
  readonly safetyPollMs?: number;
}

export class FileWake {
  private readonly listeners = new Set<() => void>();
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private checkScheduled = false;
  private notifyScheduled = false;
  private lastVersion: number;
  /** 'inotify' normally; 'poll' when the file system refused a watch (then only the poll wakes). */
  mode: 'inotify' | 'poll' | 'idle' = 'idle';
  wakes = 0;

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
    this.poll = setInterval(() => this.check(), this.mode === 'poll' ? Math.min(ms, 50) : ms);
  }

  private fallBackToPoll(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.mode = 'poll';
    clearInterval(this.poll);
    this.poll = setInterval(() => this.check(), Math.min(this.options.safetyPollMs ?? 1000, 50));
  }

  private disarm(): void {
    this.watcher?.close();
    this.watcher = undefined;
    clearInterval(this.poll);
    this.poll = undefined;
    this.mode = 'idle';
  }

  /** A burst of inotify events (one per WAL page written) becomes one check. */
  private scheduleCheck(): void {
    if (this.checkScheduled) return;
    this.checkScheduled = true;
    setImmediate(() => {
      this.checkScheduled = false;
      this.check();
    });
  }

  private check(): void {
    if (this.listeners.size === 0) return;
    const version = this.safeVersion();
    if (version === this.lastVersion) return;
    this.lastVersion = version;
    this.notify();
  }

  private readonly notify = (): void => {
    this.notifyScheduled = false;
    this.wakes++;
    for (const listener of [...this.listeners]) listener();
  };

  private safeVersion(): number {
    try {
      return this.dataVersion();
    } catch {
      return this.lastVersion;
    }
  }
}
