/**
 * One worker's watch: a chokidar watcher on its target, a debounce, and the decision to restart.
 * Changes the worker made itself are told apart by {@link SelfWrites}; a code target follows its
 * import graph as it changes (a new local import is watched from the next restart on).
 */
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import picomatch from 'picomatch';
import type { Logger } from 'pino';
import { localImportGraph } from './import-graph.js';
import { SelfWrites, openFiles, processesOf } from './self-writes.js';
import type { WatchTarget } from './targets.js';

/** However often files change, a restart waits at most this many times the delay. */
const MAX_WAIT_FACTOR = 10;
/**
 * chokidar drops a file's change events for 50 ms after one it reported (a leading-edge throttle,
 * no trailing event), so the last of two quick saves could go unseen and the old code keep running.
 * Each reported file is looked at again once that window has passed; its content decides.
 */
const RECHECK_MS = 60;

export interface WorkerWatchHost {
  readonly logger: Logger;
  readonly baseDir: string;
  /** The worker's current pid (process workers), for telling its own open files. */
  pid(): number | null;
  /** True for a module in the master's process (inline, thread): the master's own files count as the worker's. */
  readonly inMaster: boolean;
  /** Restart (or start again after a failure) for these changed files. */
  restart(files: readonly string[]): Promise<void>;
}

export class WorkerWatch {
  private watcher: FSWatcher | undefined;
  private readonly writes = new SelfWrites();
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private firstPendingAt = 0;
  private watched = new Set<string>();
  private readonly globMatch: ((file: string) => boolean) | undefined;
  private restarting: Promise<void> | undefined;
  private readonly rechecks = new Map<string, NodeJS.Timeout>();
  private closed = false;

  constructor(
    readonly target: WatchTarget,
    private readonly host: WorkerWatchHost,
  ) {
    this.globMatch = target.globs.length === 0 ? undefined : picomatch([...target.globs], { dot: true });
  }

  async start(): Promise<void> {
    const files = await this.files();
    this.writes.remember(this.target.kind === 'code' ? files : []);
    this.watched = new Set(files);
    this.watcher = watch([...files], {
      ignoreInitial: true,
      ignored: (file: string) => file !== '' && this.target.ignored(file),
      // Editors save by renaming a temp file over the original: chokidar reports that as a change.
      atomic: true,
    });
    this.watcher.on('all', (event, file) => {
      if (event === 'addDir' || event === 'unlinkDir') return;
      const absolute = path.resolve(file);
      this.changed(absolute);
      this.recheckLater(absolute);
    });
    this.watcher.on('error', (error) => this.host.logger.warn({ err: error, worker: this.target.workerId }, 'watch: a watcher failed; this worker may miss changes'));
    await new Promise<void>((resolve) => this.watcher?.once('ready', () => resolve()));
  }

  /** Lifecycle of the worker, so start-time writes are told from edits. */
  onState(to: string): void {
    if (to === 'starting') this.writes.starting();
    else if (to === 'running') this.writes.running();
    else this.writes.down();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    for (const timer of this.rechecks.values()) clearTimeout(timer);
    this.rechecks.clear();
    this.pending.clear();
    await this.watcher?.close();
    await this.restarting;
  }

  private async files(): Promise<Set<string>> {
    if (this.target.kind === 'tree') return new Set(this.target.entries);
    const all = new Set<string>();
    for (const entry of this.target.entries) for (const file of await localImportGraph(entry)) if (!this.target.ignored(file)) all.add(file);
    return all;
  }

  private changed(file: string): void {
    if (this.closed || this.target.ignored(file)) return;
    if (this.globMatch !== undefined && !this.globMatch(file)) return;
    const learn = this.target.kind === 'tree';
    const verdict = this.writes.attribute(file, () => openFiles(processesOf(this.host.pid(), this.host.inMaster)), learn);
    if (verdict === 'open' || verdict === 'starting') {
      this.host.logger.info({ worker: this.target.workerId, file: this.relative(file), reason: verdict === 'open' ? 'held open by the worker' : 'written while the worker was starting' }, 'watch: ignoring a file the worker writes itself');
    }
    if (verdict !== 'edit') return;
    if (this.pending.size === 0) this.firstPendingAt = Date.now();
    this.pending.add(file);
    clearTimeout(this.timer);
    const waited = Date.now() - this.firstPendingAt;
    this.timer = setTimeout(() => this.fire(), Math.max(0, Math.min(this.target.delayMs, this.target.delayMs * MAX_WAIT_FACTOR - waited)));
  }

  private recheckLater(file: string): void {
    clearTimeout(this.rechecks.get(file));
    this.rechecks.set(file, setTimeout(() => {
      this.rechecks.delete(file);
      // Same content as when the event was handled: 'unchanged', nothing happens.
      this.changed(file);
    }, RECHECK_MS));
  }

  private fire(): void {
    const files = [...this.pending];
    this.pending.clear();
    if (files.length === 0 || this.closed) return;
    const previous = this.restarting ?? Promise.resolve();
    this.restarting = previous.then(async () => {
      await this.host.restart(files.map((f) => this.relative(f))).catch((error: unknown) => {
        this.host.logger.warn({ err: error, worker: this.target.workerId }, 'watch: restart failed');
      });
      if (this.target.kind === 'code') await this.follow();
    });
  }

  /** After a restart, watch what the code imports now (and stop watching what it no longer does). */
  private async follow(): Promise<void> {
    if (this.closed || this.watcher === undefined) return;
    const now = await this.files();
    const added = [...now].filter((f) => !this.watched.has(f));
    const removed = [...this.watched].filter((f) => !now.has(f));
    if (added.length > 0) this.watcher.add(added);
    if (removed.length > 0) this.watcher.unwatch(removed);
    this.writes.remember(added);
    this.watched = now;
  }

  private relative(file: string): string {
    const relative = path.relative(this.host.baseDir, file);
    return relative.startsWith('..') ? file : relative;
  }
}
