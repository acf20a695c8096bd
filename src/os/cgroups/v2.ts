/** A worker's cgroup in the unified (v2) hierarchy: one directory, every controller in it. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { freezeAndKill, waitEmpty, type MemberOps } from './kill-members.js';
import { makeGroupDir, readControl, readKeyed, readNumber, readPids, removeGroupDir, writeControl, writeIfPresent, type ControlReader } from './control-files.js';
import type { AppliedLimits, CgroupLimits, CgroupStats, CgroupUsage, KillReport, WorkerCgroup } from './types.js';

/** cpu.max's period: 100 ms, the kernel's default; a percent of one core is quota/period. */
export const CPU_PERIOD_USEC = 100_000;
const WANTED = ['memory', 'cpu', 'pids'] as const;
const DEFAULT_KILL_TIMEOUT_MS = 5_000;

/**
 * Creates `parent` (and its ancestors below `mount`) and enables the memory, cpu and pids
 * controllers for children at every level, as far as each level offers them. Returns the
 * controllers the worker groups will have. A level that refuses (a delegated subtree, or a level
 * with processes of its own: the no-internal-process rule) only narrows that list.
 */
export function prepareV2Parent(mount: string, parent: string): string[] {
  makeGroupDir(parent, true);
  const levels: string[] = [];
  for (let dir = parent; dir.startsWith(mount) && dir.length >= mount.length; dir = path.dirname(dir)) {
    levels.unshift(dir);
    if (dir === mount) break;
  }
  let enabled: string[] = [...WANTED];
  for (const level of levels) {
    const available = (readControl(path.join(level, 'cgroup.controllers')) ?? '').trim().split(/\s+/);
    const subtree = (readControl(path.join(level, 'cgroup.subtree_control')) ?? '').trim().split(/\s+/);
    enabled = enabled.filter((name) => available.includes(name));
    for (const name of enabled.filter((n) => !subtree.includes(n))) {
      try {
        writeControl(path.join(level, 'cgroup.subtree_control'), `+${name}`);
      } catch {
        enabled = enabled.filter((n) => n !== name);
      }
    }
  }
  return enabled;
}

export class CgroupV2 implements WorkerCgroup {
  readonly version = 'v2';
  readonly dirs: readonly string[];
  readonly procsFiles: readonly string[];
  readonly eventsFile: string;
  /** The files the sampler reads every tick, joined once. */
  private readonly memoryFile: string;
  private readonly cpuStatFile: string;

  constructor(
    readonly dir: string,
    readonly name = path.basename(dir),
  ) {
    this.dirs = [dir];
    this.procsFiles = [path.join(dir, 'cgroup.procs')];
    this.eventsFile = path.join(dir, 'cgroup.events');
    this.memoryFile = path.join(dir, 'memory.current');
    this.cpuStatFile = path.join(dir, 'cpu.stat');
  }

  /** mkdir of the group itself; an existing one (left by an earlier run) is reused. */
  static create(parent: string, name: string): CgroupV2 {
    const group = new CgroupV2(path.join(parent, name), name);
    makeGroupDir(group.dir);
    return group;
  }

  private file(name: string): string {
    return path.join(this.dir, name);
  }

  setLimits(limits: CgroupLimits): AppliedLimits {
    const applied: (keyof CgroupLimits)[] = [];
    const unavailable: (keyof CgroupLimits)[] = [];
    const apply = (key: keyof CgroupLimits, file: string, value: string): void => {
      (writeIfPresent(this.file(file), value) ? applied : unavailable).push(key);
    };
    if (limits.memory_bytes !== undefined) {
      apply('memory_bytes', 'memory.max', String(Math.floor(limits.memory_bytes)));
      // Without this a hog over memory.max pages out to swap instead of being stopped.
      if (applied.includes('memory_bytes')) writeIfPresent(this.file('memory.swap.max'), '0');
    }
    if (limits.cpu_percent !== undefined) {
      const quota = Math.max(1000, Math.round((limits.cpu_percent / 100) * CPU_PERIOD_USEC));
      apply('cpu_percent', 'cpu.max', `${quota} ${CPU_PERIOD_USEC}`);
    }
    if (limits.pids_max !== undefined) apply('pids_max', 'pids.max', String(limits.pids_max));
    return { applied, unavailable };
  }

  addPid(pid: number): void {
    writeControl(this.file('cgroup.procs'), String(pid));
  }

  /** cgroup.procs; a kept descriptor (`read`) is fine here: v2 restarts its member walk at offset 0. */
  pids(read: ControlReader = readControl): number[] {
    return readPids(this.procsFiles[0] ?? this.file('cgroup.procs'), read);
  }

  /** memory.current and cpu.stat's usage_usec (cpu.stat exists even without the cpu controller). */
  readUsage(read: ControlReader = readControl): CgroupUsage {
    const memory = readNumber(this.memoryFile, read);
    const cpu = readKeyed(this.cpuStatFile, 'usage_usec', read);
    return { ...(memory === undefined ? {} : { memory_bytes: memory }), ...(cpu === undefined ? {} : { cpu_usage_usec: cpu }) };
  }

  readStats(): CgroupStats {
    const stats: Record<string, number | undefined> = {
      ...this.readUsage(),
      memory_peak_bytes: readNumber(this.file('memory.peak')),
      oom_kills: readKeyed(this.file('memory.events'), 'oom_kill'),
      pids: readNumber(this.file('pids.current')) ?? this.pids().length,
    };
    return Object.fromEntries(Object.entries(stats).filter(([, v]) => v !== undefined)) as CgroupStats;
  }

  private members(): MemberOps {
    const freeze = this.file('cgroup.freeze');
    return {
      pids: () => this.pids(),
      ...(readControl(freeze) === undefined
        ? {}
        : {
            freezer: {
              set: (frozen: boolean) => writeControl(freeze, frozen ? '1' : '0'),
              isFrozen: () => readKeyed(this.eventsFile, 'frozen') === 1,
            },
          }),
    };
  }

  /** `useKillFile: false` takes the freeze-kill path that kernels before 5.14 need (tests cover both). */
  async kill(timeoutMs = DEFAULT_KILL_TIMEOUT_MS, useKillFile = true): Promise<KillReport> {
    const killFile = this.file('cgroup.kill');
    // cgroup.kill (Linux 5.14+) kills every member, forks in flight included, in one write.
    // It is write-only (reading fails with EINVAL), so only its existence is checked.
    if (useKillFile && existsSync(killFile)) {
      const before = this.pids().length;
      if (before === 0) return { method: 'cgroup.kill', rounds: 0, killed: 0 };
      writeControl(killFile, '1');
      await waitEmpty(this.members(), timeoutMs, this.dir);
      return { method: 'cgroup.kill', rounds: 1, killed: before };
    }
    return freezeAndKill(this.members(), timeoutMs, this.dir);
  }

  async remove(): Promise<void> {
    if (this.pids().length > 0) await this.kill();
    await removeGroupDir(this.dir);
  }
}

