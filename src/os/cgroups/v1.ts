/**
 * A worker's cgroup in the v1 hierarchies: one directory of the same name under each controller's
 * mount (memory, cpu, cpuacct, pids, freezer; co-mounted ones share a directory).
 */
import path from 'node:path';
import { freezeAndKill, type MemberOps } from './kill-members.js';
import { makeGroupDir, readControl, readKeyed, readNumber, readPids, removeGroupDir, writeControl, type ControlReader } from './control-files.js';
import type { AppliedLimits, CgroupLimits, CgroupStats, CgroupUsage, KillReport, WorkerCgroup } from './types.js';
import { CPU_PERIOD_USEC } from './v2.js';

export const V1_WANTED = ['memory', 'cpu', 'cpuacct', 'pids', 'freezer'] as const;
export type V1Controller = (typeof V1_WANTED)[number];
const DEFAULT_KILL_TIMEOUT_MS = 5_000;

export class CgroupV1 implements WorkerCgroup {
  readonly version = 'v1';
  readonly dirs: readonly string[];
  readonly procsFiles: readonly string[];
  /** controller -> this group's directory in that controller's hierarchy. */
  private readonly byController: ReadonlyMap<V1Controller, string>;
  /** The files the sampler reads every tick, joined once. */
  private readonly procsFile: string | undefined;
  private readonly memoryUsageFile: string | undefined;
  private readonly cpuUsageFile: string | undefined;
  private readonly pidsCurrentFile: string | undefined;

  constructor(mounts: ReadonlyMap<string, string>, parent: string, readonly name: string) {
    const byController = new Map<V1Controller, string>();
    for (const controller of V1_WANTED) {
      const mount = mounts.get(controller);
      if (mount !== undefined) byController.set(controller, path.join(mount, parent, name));
    }
    this.byController = byController;
    this.dirs = [...new Set(byController.values())];
    this.procsFiles = this.dirs.map((dir) => path.join(dir, 'cgroup.procs'));
    // pids (or cpu) for membership: its cgroup.procs is the cheapest (memory's and cpuacct's cost 3x more, measured).
    const membership = byController.get('pids') ?? byController.get('cpu') ?? this.dirs[0];
    this.procsFile = membership === undefined ? undefined : path.join(membership, 'cgroup.procs');
    this.memoryUsageFile = this.file('memory', 'memory.usage_in_bytes');
    this.cpuUsageFile = this.file('cpuacct', 'cpuacct.usage');
    this.pidsCurrentFile = this.file('pids', 'pids.current');
  }

  /** Creates the group's directory in every controller hierarchy (parents included). */
  static create(mounts: ReadonlyMap<string, string>, parent: string, name: string): CgroupV1 {
    const group = new CgroupV1(mounts, parent, name);
    for (const dir of group.dirs) makeGroupDir(dir, true);
    return group;
  }

  get controllers(): V1Controller[] {
    return [...this.byController.keys()];
  }

  private file(controller: V1Controller, name: string): string | undefined {
    const dir = this.byController.get(controller);
    return dir === undefined ? undefined : path.join(dir, name);
  }

  setLimits(limits: CgroupLimits): AppliedLimits {
    const applied: (keyof CgroupLimits)[] = [];
    const unavailable: (keyof CgroupLimits)[] = [];
    if (limits.memory_bytes !== undefined) {
      const limit = this.file('memory', 'memory.limit_in_bytes');
      if (limit === undefined) unavailable.push('memory_bytes');
      else {
        this.setMemory(limit, String(Math.floor(limits.memory_bytes)));
        applied.push('memory_bytes');
      }
    }
    if (limits.cpu_percent !== undefined) {
      const quota = this.file('cpu', 'cpu.cfs_quota_us');
      const period = this.file('cpu', 'cpu.cfs_period_us');
      if (quota === undefined || period === undefined) unavailable.push('cpu_percent');
      else {
        writeControl(period, String(CPU_PERIOD_USEC));
        writeControl(quota, String(Math.max(1000, Math.round((limits.cpu_percent / 100) * CPU_PERIOD_USEC))));
        applied.push('cpu_percent');
      }
    }
    if (limits.pids_max !== undefined) {
      const max = this.file('pids', 'pids.max');
      if (max === undefined) unavailable.push('pids_max');
      else {
        writeControl(max, String(limits.pids_max));
        applied.push('pids_max');
      }
    }
    return { applied, unavailable };
  }

  /**
   * memory.memsw.limit_in_bytes (memory + swap) must never be below memory.limit_in_bytes, so the
   * order of the two writes depends on the direction; setting memsw too keeps a hog from swapping.
   */
  private setMemory(limitFile: string, bytes: string): void {
    const memsw = this.file('memory', 'memory.memsw.limit_in_bytes');
    const hasMemsw = memsw !== undefined && readControl(memsw) !== undefined;
    try {
      writeControl(limitFile, bytes);
    } catch (error) {
      if (!hasMemsw) throw error;
      writeControl(memsw, bytes); // raising: memsw first, then the limit may follow
      writeControl(limitFile, bytes);
      return;
    }
    if (hasMemsw) writeControl(memsw, bytes);
  }

  addPid(pid: number): void {
    for (const file of this.procsFiles) writeControl(file, String(pid));
  }

  /**
   * Members, from one hierarchy: a pid is placed in all of them at once (launcher, addPid) and a
   * fork inherits every membership, so one list is the whole group. Always a fresh open, hence no
   * ControlReader parameter (the sampler's kept descriptors): v1 builds the pid list when the file
   * is opened and a re-read of the same open file returns that cached list (measured: a joined
   * member missing, an exited one still listed), where v2's restarts its walk at offset 0.
   */
  pids(): number[] {
    return this.procsFile === undefined ? [] : readPids(this.procsFile);
  }

  /**
   * Tasks (threads, this group and below) from pids.current, which a kept descriptor re-reads
   * fresh: the sampler compares it with its members' threads to skip re-listing cgroup.procs.
   */
  taskCount(read: ControlReader = readControl): number | undefined {
    return this.pidsCurrentFile === undefined ? undefined : readNumber(this.pidsCurrentFile, read);
  }

  /** memory.usage_in_bytes and cpuacct.usage: one number each, fresh on every read at offset 0. */
  readUsage(read: ControlReader = readControl): CgroupUsage {
    const memory = this.memoryUsageFile === undefined ? undefined : readNumber(this.memoryUsageFile, read);
    const cpuNs = this.cpuUsageFile === undefined ? undefined : readNumber(this.cpuUsageFile, read);
    return {
      ...(memory === undefined ? {} : { memory_bytes: memory }),
      ...(cpuNs === undefined ? {} : { cpu_usage_usec: Math.floor(cpuNs / 1000) }),
    };
  }

  readStats(): CgroupStats {
    const read = (controller: V1Controller, name: string, key?: string): number | undefined => {
      const file = this.file(controller, name);
      if (file === undefined) return undefined;
      return key === undefined ? readNumber(file) : readKeyed(file, key);
    };
    const stats: Record<string, number | undefined> = {
      ...this.readUsage(),
      memory_peak_bytes: read('memory', 'memory.max_usage_in_bytes'),
      oom_kills: read('memory', 'memory.oom_control', 'oom_kill'),
      memory_failcnt: read('memory', 'memory.failcnt'),
      pids: read('pids', 'pids.current') ?? this.pids().length,
    };
    return Object.fromEntries(Object.entries(stats).filter(([, v]) => v !== undefined)) as CgroupStats;
  }

  private members(): MemberOps {
    const state = this.file('freezer', 'freezer.state');
    return {
      pids: () => this.pids(),
      ...(state === undefined
        ? {}
        : {
            freezer: {
              set: (frozen: boolean) => writeControl(state, frozen ? 'FROZEN' : 'THAWED'),
              isFrozen: () => readControl(state)?.trim() === 'FROZEN',
            },
          }),
    };
  }

  kill(timeoutMs = DEFAULT_KILL_TIMEOUT_MS): Promise<KillReport> {
    return freezeAndKill(this.members(), timeoutMs, this.name);
  }

  async remove(): Promise<void> {
    if (this.pids().length > 0) await this.kill();
    for (const dir of this.dirs) await removeGroupDir(dir);
  }
}
