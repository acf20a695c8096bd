/**
 * What a master holds besides its workers, each taken when needed and given back at shutdown:
 * the state directory (lock, pid journal, and what a dead predecessor left running), the process
 * groups its last-resort hook kills, the cgroup manager, the resource sampler, and the process-wide
 * uncaught-error attribution.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import { hsuError } from '../errors.js';
import { ResourceMonitor } from '../limits/resource-monitor.js';
import { CgroupManager, defaultInstanceTag } from '../os/cgroups/index.js';
import { PidRegistry, type OrphanRecord } from '../os/pid-registry.js';
import { ProcessGroups } from '../os/process-groups.js';
import { acquireAttribution, type AttributionScope } from '../runtimes/module/uncaught-attribution.js';
import { installLastResort } from './last-resort.js';

export type CgroupMode = 'auto' | 'v2' | 'v1' | 'off';

export interface FacilitiesOptions {
  readonly logger: Logger;
  readonly baseDir: string;
  readonly stateDir: string | undefined;
  readonly cgroups: CgroupMode;
  readonly sampleIntervalMs: number;
  readonly attributeUncaughtErrors: boolean;
}

/** Masters created in this process: a second one gets its own cgroup names. */
let mastersInProcess = 0;

export class Facilities {
  readonly groups = new ProcessGroups();
  readonly pids: PidRegistry | undefined;
  readonly resources: ResourceMonitor;
  /** Processes a dead master left running, until the master has adopted or killed them. */
  readonly orphans: readonly OrphanRecord[];
  /** The cgroups the dead predecessor in this state directory recorded: the ones to sweep (and only those). */
  readonly predecessorCgroups: readonly string[];
  private readonly serial = mastersInProcess++;
  private readonly removeLastResort: () => void;
  private cgroupManager: CgroupManager | undefined;
  private attribution: AttributionScope | undefined;

  constructor(private readonly options: FacilitiesOptions) {
    this.resources = new ResourceMonitor(options.sampleIntervalMs, (err) => options.logger.warn({ err }, 'resource sampling failed'));
    const claimed = options.stateDir === undefined ? undefined : claim(path.resolve(options.baseDir, options.stateDir), options.logger);
    this.pids = claimed?.registry;
    this.orphans = claimed?.orphans ?? [];
    this.predecessorCgroups = claimed?.cgroups ?? [];
    this.removeLastResort = installLastResort(this.groups);
  }

  /** The cgroup manager, made (and the hierarchy detected) when the first process worker needs it; undefined when off. */
  cgroups(): CgroupManager | undefined {
    if (this.options.cgroups === 'off') return undefined;
    if (this.cgroupManager === undefined) {
      this.cgroupManager = new CgroupManager({ prefer: this.options.cgroups === 'auto' ? 'auto' : this.options.cgroups, instanceTag: defaultInstanceTag(this.serial) });
      this.removeEmptyCgroups(this.cgroupManager);
    }
    return this.cgroupManager;
  }

  /**
   * Once per master, with the manager: any dead master's empty groups go (a master killed with -9
   * whose state directory no master starts from again would leave them for ever). Non-empty ones
   * wait for their own master's successor to adopt or sweep them.
   */
  private removeEmptyCgroups(manager: CgroupManager): void {
    try {
      const removed = manager.removeEmptyOfDeadMasters();
      if (removed.length > 0) this.options.logger.info({ removed }, 'removed the empty cgroups of dead masters');
    } catch (err) {
      this.options.logger.warn({ err }, 'removing the empty cgroups of dead masters failed');
    }
  }

  /** The attribution hooks, installed on first use by an inline module; undefined when attribution is off. */
  attributionScope(): AttributionScope | undefined {
    if (!this.options.attributeUncaughtErrors) return undefined;
    this.attribution ??= acquireAttribution();
    return this.attribution;
  }

  /** Everything given back; call once nothing of the master runs any more. */
  async close(): Promise<void> {
    await this.pids?.close();
    this.resources.close();
    this.cgroupManager?.removeParentIfEmpty();
    this.attribution?.release();
    this.attribution = undefined;
    this.removeLastResort();
  }

  /** As close(), for a master that never started anything. */
  abandon(): void {
    this.pids?.closeSync();
    this.resources.close();
    this.removeLastResort();
  }
}

function claim(stateDir: string, logger: Logger): { registry: PidRegistry; orphans: OrphanRecord[]; cgroups: string[] } {
  const registry = new PidRegistry(stateDir, (err) => logger.warn({ err, state_dir: stateDir }, 'could not update the pid registry'));
  let report;
  try {
    report = registry.claim();
  } catch (err) {
    throw hsuError('STATE_DIR_UNUSABLE', `cannot use state directory ${stateDir}: ${(err as Error).message}`, { state_dir: stateDir }, err);
  }
  if (report.ownedBy !== undefined) {
    throw hsuError('STATE_DIR_IN_USE', `master pid ${report.ownedBy} is alive and owns ${stateDir}; two masters must not supervise the same workers`, { state_dir: stateDir, pid: report.ownedBy });
  }
  if (report.orphans.length > 0) {
    logger.info({ orphans: report.orphans.map((o) => ({ worker: o.worker, pid: o.pid })) }, 'a previous master left processes running; they are adopted or killed when this master starts');
  }
  return { registry, orphans: report.orphans, cgroups: report.cgroups };
}
