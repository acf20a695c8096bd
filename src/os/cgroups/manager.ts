/**
 * The per-master face of cgroups: detects the hierarchy once, makes one group per worker under the
 * hsu parent, re-opens groups for adoption, and sweeps groups whose master died.
 */
import { readdirSync, rmdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { hsuError, isHsuError, type HsuError } from '../../errors.js';
import { isSame } from '../proc-stat.js';
import { detectCgroups, type CgroupSupport, type DetectOptions, type EnforcementMode } from './detect.js';
import { DEFAULT_PREFIX, defaultInstanceTag, groupName, parseGroupName, type ParsedGroupName } from './naming.js';
import type { WorkerCgroup } from './types.js';
import { CgroupV1 } from './v1.js';
import { CgroupV2, prepareV2Parent } from './v2.js';

/** A worker id, or a replica id (`<id>#<n>`); cgroupfs takes `#` in a directory name. */
const WORKER_ID = /^[A-Za-z0-9_-]{1,64}(#\d{1,6})?$/;
const TAG = /^[A-Za-z0-9_-]{1,64}$/;

export interface CgroupManagerOptions extends DetectOptions {
  readonly prefix?: string;
  /** Names this master; default m<pid>s<start ticks>. Letters, digits, _ and - only. */
  readonly instanceTag?: string;
  /** Detection already done (shared by several managers, or a test's forced choice). */
  readonly support?: CgroupSupport;
}

/** What tryCreate reports: a group, or the reason the worker falls back to polling. */
export interface CgroupAttempt {
  readonly enforcement: EnforcementMode;
  readonly cgroup?: WorkerCgroup;
  readonly error?: HsuError;
  readonly reason: string;
}

export interface GroupInfo extends ParsedGroupName {
  readonly name: string;
  /** True when the owning master is alive (unknown owners count as alive: never swept blindly). */
  readonly owner_alive: boolean;
  readonly pids: readonly number[];
}

export interface SweepReport {
  readonly removed: readonly string[];
  readonly spared: readonly string[];
  readonly failed: readonly { name: string; code: string }[];
}

export class CgroupManager {
  readonly support: CgroupSupport;
  readonly prefix: string;
  readonly instanceTag: string;
  private v2Controllers: string[] | undefined;

  constructor(options: CgroupManagerOptions = {}) {
    this.support = options.support ?? detectCgroups(options);
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.instanceTag = options.instanceTag ?? defaultInstanceTag();
    if (!TAG.test(this.prefix) || !TAG.test(this.instanceTag)) {
      throw hsuError('CGROUP_CREATE_FAILED', 'cgroup prefix and instance tag must be 1-64 of [A-Za-z0-9_-]', { prefix: this.prefix, instance_tag: this.instanceTag });
    }
  }

  get enforcement(): EnforcementMode {
    return this.support.mode;
  }

  nameFor(workerId: string): string {
    if (!WORKER_ID.test(workerId)) throw hsuError('WORKER_ID_INVALID', `invalid worker id ${JSON.stringify(workerId)}`, { worker_id: workerId });
    return groupName(this.prefix, this.instanceTag, workerId);
  }

  /** Creates (or reuses, emptied) the worker's group. Throws CGROUP_UNAVAILABLE or CGROUP_CREATE_FAILED. */
  async create(workerId: string): Promise<WorkerCgroup> {
    const name = this.nameFor(workerId);
    const group = this.make(name, true);
    // A group of the same name is this master's own earlier run of the worker: start it empty.
    if (group.pids().length > 0) await group.kill();
    return group;
  }

  /** create() that never throws: the worker falls back to polling and the reason is kept. */
  async tryCreate(workerId: string): Promise<CgroupAttempt> {
    try {
      const cgroup = await this.create(workerId);
      return { enforcement: this.support.mode, cgroup, reason: this.support.reason };
    } catch (error) {
      if (!isHsuError(error) || error.code === 'HSU_ERR_WORKER_ID_INVALID') throw error;
      return { enforcement: 'poll', error, reason: `${error.message}; falling back to polling` };
    }
  }

  /** An existing group by name (adoption after a master restart); undefined when absent. */
  open(name: string): WorkerCgroup | undefined {
    if (parseGroupName(this.prefix, name) === undefined) return undefined;
    const group = this.make(name, false);
    return group.dirs.some((dir) => existsDir(dir)) ? group : undefined;
  }

  private make(name: string, create: boolean): WorkerCgroup {
    const support = this.support;
    if (support.mode === 'poll') throw hsuError('CGROUP_UNAVAILABLE', support.reason, { reason: support.reason });
    if (support.mode === 'cgroup-v2') {
      if (!create) return new CgroupV2(path.join(support.parent, name), name);
      this.v2Controllers ??= prepareV2Parent(support.v2Mount ?? '', support.parent);
      return CgroupV2.create(support.parent, name);
    }
    return create ? CgroupV1.create(support.v1Mounts, support.parent, name) : new CgroupV1(support.v1Mounts, support.parent, name);
  }

  /** Every hsu group under the parent (of any master), with its owner's liveness and members. */
  list(): GroupInfo[] {
    if (this.support.mode === 'poll') return [];
    const names = new Set<string>();
    for (const dir of this.parentDirs()) {
      let entries: string[];
      try {
        entries = readdirSync(dir);
      } catch {
        continue; // parent not created yet: nothing to list
      }
      for (const entry of entries) if (parseGroupName(this.prefix, entry) !== undefined) names.add(entry);
    }
    return [...names].sort().map((name) => {
      const parsed = parseGroupName(this.prefix, name) as ParsedGroupName;
      const group = this.make(name, false);
      const ownerAlive = parsed.owner === undefined ? true : isSame(parsed.owner);
      return { name, ...parsed, owner_alive: ownerAlive, pids: group.pids() };
    });
  }

  /**
   * Kills the members of, and removes, every group whose master is dead, except those `spare`
   * keeps (the workers a restarted master adopts). Groups of live masters are never touched.
   * `mine` limits the sweep to some dead masters' groups (a master sweeps only its own
   * predecessors', named in its state directory, never another dead master's waiting to be adopted).
   */
  async sweep(spare: (group: GroupInfo) => boolean = () => false, mine: (group: GroupInfo) => boolean = () => true): Promise<SweepReport> {
    const removed: string[] = [];
    const spared: string[] = [];
    const failed: { name: string; code: string }[] = [];
    for (const info of this.list()) {
      if (info.owner_alive || info.instance === this.instanceTag || !mine(info)) continue;
      if (spare(info)) {
        spared.push(info.name);
        continue;
      }
      try {
        await this.make(info.name, false).remove();
        removed.push(info.name);
      } catch (error) {
        failed.push({ name: info.name, code: isHsuError(error) ? error.code : 'HSU_ERR_UNKNOWN' });
      }
    }
    return { removed, spared, failed };
  }

  /**
   * Removes the empty groups of every dead master, not only this master's predecessor: leftovers
   * of masters killed with -9 whose state directory no master starts from again. An empty group
   * holds nothing to adopt or kill, so this is safe whoever owned it. Never kills: a group that
   * has a member (or gains one meanwhile) stays, since the kernel refuses to remove it.
   */
  removeEmptyOfDeadMasters(): string[] {
    const removed: string[] = [];
    for (const info of this.list()) {
      if (info.owner_alive || info.instance === this.instanceTag || info.pids.length > 0) continue;
      let gone = true;
      for (const parent of this.parentDirs()) {
        try {
          rmdirSync(path.join(parent, info.name));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') gone = false; // EBUSY: a member after all
        }
      }
      if (gone) removed.push(info.name);
    }
    return removed;
  }

  /** Removes the hsu parent directories when no group is left in them (tests, uninstall). */
  removeParentIfEmpty(): void {
    for (const dir of this.parentDirs()) {
      try {
        rmdirSync(dir);
      } catch {
        // not empty (another master's groups), or never created
      }
    }
  }

  private parentDirs(): string[] {
    if (this.support.mode === 'cgroup-v2') return [this.support.parent];
    return [...new Set([...this.support.v1Mounts.values()].map((mount) => path.join(mount, this.support.parent)))];
  }

  /** The snake_case block for diagnostics. */
  diagnostics(): { enforcement: EnforcementMode; reason: string; parent: string; controllers: readonly string[]; instance_tag: string } {
    return { enforcement: this.support.mode, reason: this.support.reason, parent: this.support.parent, controllers: this.support.controllers, instance_tag: this.instanceTag };
  }
}

function existsDir(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
