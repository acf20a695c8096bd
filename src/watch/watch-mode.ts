/**
 * `hsu run --watch`: every worker watched on its own files, restarted alone when they change
 * (the others keep running), with the changed files in the log. An inline module gets its edited
 * code through a new module generation (reload-hooks.ts). A worker that failed (a syntax error
 * saved half-way) is started again by the next change; one the operator stopped is left alone.
 * Workers added or removed later (a reload) are followed; the config file itself triggers a reload.
 */
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from 'pino';
import type { WorkerConfig } from '../config/index.js';
import type { Master } from '../master/master.js';
import { bumpGeneration } from './reload-hooks.js';
import { watchTargetOf } from './targets.js';
import { WorkerWatch } from './worker-watch.js';

export interface WatchModeOptions {
  readonly master: Master;
  readonly logger: Logger;
  /** The config file; relative watch paths resolve against its directory. */
  readonly configFile: string;
  readonly logDir: string;
  readonly stateDir?: string;
  /** Called when the config file changes (hsu run: reload, as SIGHUP does). */
  readonly onConfigChange?: () => void;
}

const RESTARTABLE = new Set(['running', 'starting', 'waiting_restart']);
const STARTABLE = new Set(['failed', 'failed_start']);

/** The worker id a replica belongs to (`api#1` -> `api`). */
const groupOf = (id: string): string => id.replace(/#\d+$/, '');

export class WatchMode {
  private readonly watches = new Map<string, WorkerWatch>();
  private readonly offs: (() => void)[] = [];
  private configWatcher: FSWatcher | undefined;
  private pending: Promise<unknown> = Promise.resolve();

  private constructor(private readonly options: WatchModeOptions) {}

  static async start(options: WatchModeOptions): Promise<WatchMode> {
    const mode = new WatchMode(options);
    await mode.begin();
    return mode;
  }

  /** Ids of the workers being watched, with what each is watched on. */
  describe(): Record<string, string> {
    return Object.fromEntries([...this.watches].map(([id, w]) => [id, w.target.description]));
  }

  private get baseDir(): string {
    return path.dirname(path.resolve(this.options.configFile));
  }

  private async begin(): Promise<void> {
    const { master } = this.options;
    this.offs.push(master.on('state', (event) => this.watches.get(groupOf(event.worker_id))?.onState(event.to)));
    this.offs.push(master.on('added', (event) => this.track(this.add(groupOf(event.worker_id)))));
    this.offs.push(master.on('removed', (event) => this.track(this.remove(groupOf(event.worker_id)))));
    for (const id of master.listWorkers()) await this.add(id);
    if (this.options.onConfigChange !== undefined) {
      const onChange = this.options.onConfigChange;
      this.configWatcher = watch(path.resolve(this.options.configFile), { ignoreInitial: true, atomic: true });
      this.configWatcher.on('change', () => {
        this.options.logger.info({ config: this.options.configFile }, 'watch: the config file changed; reloading');
        onChange();
      });
      await new Promise<void>((resolve) => this.configWatcher?.once('ready', () => resolve()));
    }
    this.options.logger.info({ workers: this.describe() }, `watch: watching ${this.watches.size} worker(s) for changes`);
  }

  private track(work: Promise<unknown>): void {
    this.pending = this.pending.then(() => work).catch((error: unknown) => this.options.logger.warn({ err: error }, 'watch: could not follow a worker change'));
  }

  private async add(id: string): Promise<void> {
    await this.remove(id);
    let config: WorkerConfig;
    try {
      config = this.options.master.getWorkerConfig(id);
    } catch {
      return; // removed meanwhile
    }
    const target = watchTargetOf(config, { baseDir: this.baseDir, logDir: this.options.logDir, stateDir: this.options.stateDir });
    if (target === undefined) return;
    const inMaster = config.type === 'module';
    const watcher = new WorkerWatch(target, {
      logger: this.options.logger,
      baseDir: this.baseDir,
      inMaster,
      pid: () => {
        try {
          return this.options.master.getWorkerStateWithDiagnostics(id).pid;
        } catch {
          return null;
        }
      },
      restart: (files) => this.restart(config, files),
    });
    this.watches.set(id, watcher);
    await watcher.start();
  }

  private async remove(id: string): Promise<void> {
    const existing = this.watches.get(id);
    this.watches.delete(id);
    await existing?.close();
  }

  private async restart(config: WorkerConfig, files: readonly string[]): Promise<void> {
    const { master, logger } = this.options;
    const state = master.getWorkerState(config.id);
    const changed = files.length > 3 ? `${files.slice(0, 3).join(', ')} and ${files.length - 3} more` : files.join(', ');
    if (!RESTARTABLE.has(state) && !STARTABLE.has(state)) {
      logger.debug({ worker: config.id, state, files }, 'watch: a change, but the worker is not running; left alone');
      return;
    }
    if (config.type === 'module' && config.module.isolation === 'inline' && config.module.module_type === 'plugin') bumpGeneration(config.module.module_path);
    logger.info({ worker: config.id, files, reason: 'watch' }, `watch: ${STARTABLE.has(state) ? 'starting' : 'restarting'} ${config.id}: ${changed} changed`);
    if (STARTABLE.has(state)) await master.startWorker(config.id);
    else await master.restartWorker(config.id, { reason: `watch: ${changed} changed` });
  }

  async close(): Promise<void> {
    for (const off of this.offs) off();
    await this.pending;
    await this.configWatcher?.close();
    await Promise.all([...this.watches.values()].map((w) => w.close()));
    this.watches.clear();
  }
}
