/**
 * Config reload, applied to a running Master through its public API only. The file is read and
 * validated first: an invalid file changes nothing. Then the difference (config/diff.ts) is
 * applied: removed workers are stopped and removed, changed ones replaced by their new config and
 * started again if they were active, added ones added and started; unchanged ones are not touched.
 * A change of only a module's `config:` block is offered to the module first (Master.reconfigureWorker).
 *
 * Reload manages the workers that came from the file. Workers added at run time (the API's
 * POST /workers) are left alone, unless the file now declares the same id, which adopts them.
 */
import type { Logger } from 'pino';
import { diffWorkers, type ConfigDiff, type WorkerChange } from '../config/diff.js';
import type { ConfigIssue, HsuConfig, WorkerConfig } from '../config/index.js';
import { formatIssues } from '../config/index.js';
import { hsuError, isHsuError } from '../errors.js';
import { OPERATIONS, type WorkerState } from '../lifecycle/states.js';
import type { ReloadReportBody } from '../api/schemas.js';
import type { Master } from './master.js';
import { assertMoveAllowed, packageMove, record, watchNewVersion, type PackageMove, type VersionBook } from './package-upgrade.js';

export type ReloadReport = ReloadReportBody;

/** Reads and validates the file; `warnings` are the reader's own (settings it knows cannot change live). */
export type ReadResult = { ok: true; config: HsuConfig; warnings?: string[] } | { ok: false; issues: ConfigIssue[] };
export type ReadConfig = () => ReadResult | Promise<ReadResult>;

export interface ReloaderOptions {
  readonly master: Master;
  readonly file: string;
  /** Reads and validates the file (throws CONFIG_NOT_FOUND when it is gone). */
  readonly read: ReadConfig;
  /** The config the master was started with. */
  readonly initial: HsuConfig;
  readonly logger?: Logger;
  /** Hears every finished reload (the API streams it). */
  readonly onReport?: (report: ReloadReport) => void;
  /** The package store's current/previous record per worker (kept when a packaged worker changes version). */
  readonly versions?: VersionBook;
}

const ACTIVE: readonly WorkerState[] = ['starting', 'running', 'waiting_restart', 'stopping'];
const STOPPABLE: readonly WorkerState[] = [...OPERATIONS.stop, 'stopping'];

type ReloadError = ReloadReport['errors'][number];

export class ConfigReloader {
  /** The config each file-managed worker runs with, as the file last said it. */
  private readonly managed = new Map<string, WorkerConfig>();
  private masterSettings: HsuConfig['master'];
  private queue: Promise<unknown> = Promise.resolve();
  /** Packaged workers on a new version, inside their rollback window. */
  private readonly guards = new Map<string, () => void>();

  constructor(private readonly options: ReloaderOptions) {
    for (const worker of options.initial.workers) this.managed.set(worker.id, worker);
    this.masterSettings = options.initial.master;
  }

  /** Ends the rollback windows still open (the master is shutting down: nothing is rolled back on the way out). */
  close(): void {
    for (const dispose of this.guards.values()) dispose();
    this.guards.clear();
  }

  /** Reloads once (after any reload in progress). Rejects with CONFIG_INVALID (every issue) when the file is invalid. */
  reload(): Promise<ReloadReport> {
    const run = this.queue.then(() => this.apply());
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async apply(): Promise<ReloadReport> {
    const { master, file, logger } = this.options;
    const started = Date.now();
    if (master.closing) throw hsuError('MASTER_SHUT_DOWN', 'the master is shutting down; reload refused');
    const result = await this.options.read();
    if (!result.ok) {
      logger?.error({ file, issues: result.issues }, `reload refused: the config file is invalid; nothing was changed\n${formatIssues(result.issues)}`);
      throw hsuError('CONFIG_INVALID', `reload refused, nothing was changed: ${file} has ${result.issues.length} problem${result.issues.length === 1 ? '' : 's'}:\n${formatIssues(result.issues)}`, { file, issues: result.issues });
    }
    const warnings = [...this.masterWarnings(result.config.master), ...(result.warnings ?? [])];
    const diff = diffWorkers(this.currentConfigs(result.config.workers), result.config.workers);
    const errors: ReloadError[] = [];
    const reconfigured: string[] = [];
    const replaced: string[] = [];
    for (const id of [...diff.removed].reverse()) await this.step(errors, id, 'remove', () => this.remove(id));
    for (const change of diff.changed) {
      if (change.keys.length === 1 && change.keys[0] === 'instances' && (await this.tryScale(change, errors))) reconfigured.push(change.id);
      else if (change.onlyModuleConfig && (await this.tryReconfigure(change, errors))) reconfigured.push(change.id);
      else if (await this.step(errors, change.id, 'replace', () => this.replace(change))) replaced.push(change.id);
    }
    for (const config of diff.added) await this.step(errors, config.id, 'add', () => this.add(config));
    const report: ReloadReport = {
      ok: errors.length === 0,
      file,
      added: diff.added.map((w) => w.id),
      removed: diff.removed,
      changed: replaced,
      reconfigured,
      unchanged: diff.unchanged,
      errors,
      warnings,
      duration_ms: Date.now() - started,
    };
    this.log(report, diff);
    this.options.onReport?.(report);
    return report;
  }

  /** What the master runs now, for the ids the diff should consider. */
  private currentConfigs(next: readonly WorkerConfig[]): WorkerConfig[] {
    const { master } = this.options;
    const running = new Set(master.listWorkerIds());
    const declared = new Set(next.map((w) => w.id));
    for (const id of this.managed.keys()) if (!running.has(id)) this.managed.delete(id); // removed at run time
    // A run-time worker the file now declares is adopted: compared with what it runs.
    for (const id of running) if (!this.managed.has(id) && declared.has(id)) this.managed.set(id, master.getWorkerConfig(id));
    return [...this.managed.values()];
  }

  private async remove(id: string): Promise<void> {
    const { master } = this.options;
    this.unguard(id);
    if (master.getWorkerStates(id).some((state) => STOPPABLE.includes(state))) await master.stopWorker(id);
    await master.removeWorker(id);
    this.managed.delete(id);
  }

  private async add(config: WorkerConfig): Promise<void> {
    this.options.master.addWorker(config);
    this.managed.set(config.id, config);
    if (config.enabled) await this.options.master.startWorker(config.id);
  }

  /** Stop, swap the config, start again if it was active (or has just been enabled). */
  private async replace(change: WorkerChange): Promise<void> {
    const { master } = this.options;
    const { id, before, after } = change;
    const wasActive = master.getWorkerStates(id).some((state) => ACTIVE.includes(state));
    master.runtimes.resolve(after); // a config no runtime takes must fail before the old worker is gone
    const move = packageMove(before, after);
    if (move !== undefined) assertMoveAllowed(id, move, after); // before anything is stopped
    this.unguard(id);
    if (master.getWorkerStates(id).some((state) => STOPPABLE.includes(state))) await master.stopWorker(id);
    await master.removeWorker(id);
    try {
      master.addWorker(after);
    } catch (error) {
      master.addWorker(before); // put the old one back rather than lose the worker
      this.managed.set(id, before);
      if (wasActive) await master.startWorker(id).catch(() => undefined);
      throw error;
    }
    this.managed.set(id, after);
    if (!(after.enabled && (wasActive || !before.enabled))) return;
    if (move === undefined) {
      await master.startWorker(id);
      return;
    }
    try {
      await master.startWorker(id);
    } catch (error) {
      await this.rollBack(change, move, `it failed to start: ${(error as Error).message}`);
      throw error;
    }
    this.guard(change, move);
  }

  /** Watches a packaged worker's new version for its rollback window. */
  private guard(change: WorkerChange, move: PackageMove): void {
    const { id, after } = change;
    const versions = this.options.versions;
    void record(this.options.logger, 'set current', async () => versions?.setCurrent(move.name, move.to, { scope: id, allowDowngrade: after.allow_downgrade }));
    const dispose = watchNewVersion(
      this.options.master,
      id,
      after.rollback_window,
      (reason) => {
        this.guards.delete(id);
        // Through the reload queue: never at the same time as a reload of the same worker.
        this.queue = this.queue.then(() => this.rollBack(change, move, reason)).catch(() => undefined);
      },
      () => {
        this.guards.delete(id);
        this.options.logger?.info({ worker: id, package: move.name, version: move.to }, 'package upgrade confirmed: the rollback window passed');
      },
    );
    this.guards.set(id, dispose);
  }

  /** Back to the previous version of a packaged worker: its old config, started again. */
  private async rollBack(change: WorkerChange, move: PackageMove, reason: string): Promise<void> {
    const { master, logger } = this.options;
    const { id, before } = change;
    if (master.closing || this.managed.get(id) !== change.after) return; // shutting down, or replaced since
    logger?.error({ worker: id, package: move.name, from: move.to, to: move.from, reason }, `package upgrade rolled back: ${move.name} ${move.to} ${reason}; back on ${move.from}`);
    if (master.getWorkerStates(id).some((state) => STOPPABLE.includes(state))) await master.stopWorker(id, { force: true }).catch(() => undefined);
    await master.removeWorker(id);
    master.addWorker(before);
    this.managed.set(id, before);
    await record(logger, 'rollback', async () => this.options.versions?.rollback(move.name, id));
    await master.startWorker(id).catch((err: unknown) => logger?.error({ worker: id, err }, 'the previous version failed to start too'));
  }

  private unguard(id: string): void {
    this.guards.get(id)?.();
    this.guards.delete(id);
  }

  /** Only `instances` changed: replicas are added or removed, the others keep running. */
  private async tryScale(change: WorkerChange, errors: ReloadError[]): Promise<boolean> {
    try {
      if ((await this.options.master.scaleWorker(change.id, change.after.instances)) !== 'applied') return false;
    } catch (error) {
      errors.push(errorEntry(change.id, 'scale', error));
      return true; // what could be scaled was; a restart of every replica would not do better
    }
    this.managed.set(change.id, change.after);
    return true;
  }

  private async tryReconfigure(change: WorkerChange, errors: ReloadError[]): Promise<boolean> {
    const config = change.after.module?.config ?? {};
    try {
      // 'unsupported': restart it with the new config instead; a rejection: the module refused it.
      if ((await this.options.master.reconfigureWorker(change.id, config)) !== 'applied') return false;
    } catch (error) {
      // The module refused the new config: a restart with it is the fallback, and the refusal is reported.
      errors.push(errorEntry(change.id, 'reconfigure', error));
      return false;
    }
    this.managed.set(change.id, change.after);
    return true;
  }

  /** Runs one step; a failure is recorded and the reload goes on with the next worker. */
  private async step(errors: ReloadError[], id: string, step: string, fn: () => Promise<void>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (error) {
      errors.push(errorEntry(id, step, error));
      this.options.logger?.error({ worker: id, step, err: error }, `reload: could not ${step} worker`);
      return false;
    }
  }

  private masterWarnings(next: HsuConfig['master']): string[] {
    const before = this.masterSettings as Record<string, unknown>;
    const after = next as Record<string, unknown>;
    const keys = Object.keys(after).filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]));
    return keys.map((key) => `master.${key} changed; it takes effect when the master is restarted`);
  }

  private log(report: ReloadReport, diff: ConfigDiff): void {
    const changes = Object.fromEntries(diff.changed.map((c) => [c.id, c.keys]));
    const fields = { added: report.added, removed: report.removed, changed: report.changed, reconfigured: report.reconfigured, unchanged: report.unchanged.length, keys: changes, errors: report.errors, warnings: report.warnings };
    if (report.ok) this.options.logger?.info(fields, 'config reloaded');
    else this.options.logger?.error(fields, 'config reloaded with errors');
  }
}

function errorEntry(id: string | null, step: string, error: unknown): ReloadError {
  const code = isHsuError(error) ? error.code : ((error as { code?: string }).code ?? 'HSU_ERR_UNKNOWN');
  return { worker_id: id, step, code, message: (error as Error).message ?? String(error) };
}
