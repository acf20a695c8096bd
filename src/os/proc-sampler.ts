/**
 * Resource usage of every watched process worker from ONE pass over /proc per tick: the stat file
 * of each process (which already holds ppid, cpu ticks, threads, rss and start time), plus the
 * fd count of each watched root and, for a worker with a cgroup, its usage counters. Cost grows
 * with the processes on the machine, not with the number of workers times that.
 */
import { readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { CLOCK_TICKS_PER_SECOND } from './proc.js';
import type { CgroupUsage } from './cgroups/types.js';
import { countOpenFds, PAGE_SIZE, readSmallFile } from './proc-files.js';
import { readStat, scanAll, type Identity, type StatFields } from './proc-stat.js';

/** What the sampler needs of a worker's cgroup (a WorkerCgroup fits). */
export interface SampledCgroup {
  readUsage(): CgroupUsage;
  pids(): number[];
}

export interface WatchOptions {
  readonly cgroup?: SampledCgroup;
  /** CPU% is averaged over this much history; default the sampler's. */
  readonly cpuWindowMs?: number;
}

export interface ResourceSample {
  readonly worker: string;
  readonly pid: number;
  /** False once the root exited or its pid names another process (recycled). */
  readonly alive: boolean;
  /** Monotonic ms (performance.now): spans between samples; `time` is the wall clock. */
  readonly at_ms: number;
  readonly time: number;
  /** RSS of the root and every descendant. */
  readonly rss_bytes: number;
  readonly root_rss_bytes: number;
  /** Percent of one core over cpu_window_ms (can exceed 100 with several threads). */
  readonly cpu_percent: number;
  readonly cpu_window_ms: number;
  /** CPU time used so far, monotonic per worker (cgroup's counter when there is one). */
  readonly cpu_time_usec: number;
  /** Descriptors open in the root process (RLIMIT_NOFILE is per process). */
  readonly open_fds: number;
  readonly threads: number;
  readonly root_threads: number;
  /** Live descendants: by ppid links, plus cgroup members that were reparented (double fork); with a cgroup on every worker, its members. */
  readonly descendants: number;
  readonly cgroup_memory_bytes?: number;
}

export interface SamplerOptions {
  /** Default CPU window: 10 s. */
  readonly cpuWindowMs?: number;
}

interface Watched {
  readonly identity: Identity;
  readonly options: WatchOptions;
  /** Per-process ticks at the previous pass, keyed by pid (checked against start time). */
  ticks: Map<number, { start: number; ticks: number }>;
  consumedTicks: number;
  history: { at: number; usec: number }[];
  lastBootTicks?: number;
}

const USEC_PER_TICK = 1_000_000 / CLOCK_TICKS_PER_SECOND;

function bootTicksNow(): number {
  return Number((readSmallFile('/proc/uptime') ?? '0').split(' ')[0]) * CLOCK_TICKS_PER_SECOND;
}

export class ProcSampler {
  private readonly watched = new Map<string, Watched>();
  private readonly cpuWindowMs: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: SamplerOptions = {}) {
    this.cpuWindowMs = options.cpuWindowMs ?? 10_000;
  }

  /** Starts (or replaces) the watch of a worker's root process. */
  watch(worker: string, identity: Identity, options: WatchOptions = {}): void {
    this.watched.set(worker, { identity, options, ticks: new Map(), consumedTicks: 0, history: [] });
  }

  unwatch(worker: string): void {
    this.watched.delete(worker);
  }

  get size(): number {
    return this.watched.size;
  }

  /**
   * One pass for every watched worker. When every worker has a cgroup its members are the tree, so
   * only their stat files are read; otherwise every process's stat is read once (the ppid links).
   */
  sample(): ResourceSample[] {
    if (this.watched.size === 0) return [];
    const members = new Map<string, number[]>();
    for (const [worker, state] of this.watched) {
      const pids = state.options.cgroup?.pids();
      if (pids !== undefined) members.set(worker, pids);
    }
    const scan = members.size < this.watched.size;
    const all = scan ? scanAll() : this.readMembers(members);
    const children = new Map<number, number[]>();
    if (scan) {
      for (const stat of all.values()) {
        const list = children.get(stat.ppid);
        if (list === undefined) children.set(stat.ppid, [stat.pid]);
        else list.push(stat.pid);
      }
    }
    const at = performance.now();
    const time = Date.now();
    const bootTicks = bootTicksNow();
    const out: ResourceSample[] = [];
    for (const [worker, state] of this.watched) out.push(this.sampleOne(worker, state, all, children, members.get(worker) ?? [], at, time, bootTicks));
    return out;
  }

  /** The stat of each watched root and cgroup member only. */
  private readMembers(members: ReadonlyMap<string, readonly number[]>): Map<number, StatFields> {
    const all = new Map<number, StatFields>();
    const read = (pid: number): void => {
      if (all.has(pid)) return;
      const stat = readStat(pid);
      if (stat !== undefined) all.set(pid, stat);
    };
    for (const [worker, state] of this.watched) {
      read(state.identity.pid);
      for (const pid of members.get(worker) ?? []) read(pid);
    }
    return all;
  }

  private sampleOne(worker: string, state: Watched, all: Map<number, StatFields>, children: Map<number, number[]>, members: readonly number[], at: number, time: number, bootTicks: number): ResourceSample {
    const { pid, startTimeTicks } = state.identity;
    const root = all.get(pid);
    const alive = root !== undefined && root.startTimeTicks === startTimeTicks && root.state !== 'Z';
    const tree: StatFields[] = [];
    if (alive) {
      const seen = new Set<number>([pid]);
      const queue = [pid];
      for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
        const stat = all.get(next);
        if (stat !== undefined && stat.state !== 'Z') tree.push(stat);
        for (const child of children.get(next) ?? []) {
          if (seen.has(child)) continue;
          seen.add(child);
          queue.push(child);
        }
      }
      // Daemons that double-forked were reparented away from the tree; their cgroup still holds them.
      for (const member of members) {
        const stat = all.get(member);
        if (seen.has(member) || stat === undefined || stat.state === 'Z') continue;
        seen.add(member);
        tree.push(stat);
      }
    }
    const usage = alive ? state.options.cgroup?.readUsage() : undefined;
    const cpuUsec = this.cpuTime(state, tree, bootTicks, usage);
    const cpu = this.cpuOverWindow(state, at, cpuUsec, root, bootTicks);
    let rss = 0;
    let threads = 0;
    for (const stat of tree) {
      rss += stat.rssPages * PAGE_SIZE;
      threads += stat.threads;
    }
    return {
      worker,
      pid,
      alive,
      at_ms: at,
      time,
      rss_bytes: rss,
      root_rss_bytes: alive ? root.rssPages * PAGE_SIZE : 0,
      cpu_percent: cpu.percent,
      cpu_window_ms: cpu.windowMs,
      cpu_time_usec: cpuUsec,
      open_fds: alive ? (countOpenFds(pid, readdirSync) ?? 0) : 0,
      threads,
      root_threads: alive ? root.threads : 0,
      descendants: Math.max(0, tree.length - 1),
      ...(usage?.memory_bytes === undefined ? {} : { cgroup_memory_bytes: usage.memory_bytes }),
    };
  }

  /**
   * Monotonic CPU time of the worker. With a cgroup, its counter (exact, includes exited
   * children). Without, the sum of per-process tick deltas: a process seen before adds what it used
   * since; one born since the last pass adds all it used; nothing is counted twice.
   */
  private cpuTime(state: Watched, tree: readonly StatFields[], bootTicks: number, usage: CgroupUsage | undefined): number {
    const next = new Map<number, { start: number; ticks: number }>();
    for (const stat of tree) {
      const prev = state.ticks.get(stat.pid);
      if (prev !== undefined && prev.start === stat.startTimeTicks) state.consumedTicks += Math.max(0, stat.cpuTicks - prev.ticks);
      else if (state.lastBootTicks === undefined || stat.startTimeTicks >= state.lastBootTicks) state.consumedTicks += stat.cpuTicks;
      next.set(stat.pid, { start: stat.startTimeTicks, ticks: stat.cpuTicks });
    }
    state.ticks = next;
    state.lastBootTicks = bootTicks;
    return usage?.cpu_usage_usec ?? state.consumedTicks * USEC_PER_TICK;
  }

  private cpuOverWindow(state: Watched, at: number, usec: number, root: StatFields | undefined, bootTicks: number): { percent: number; windowMs: number } {
    const history = state.history;
    if (history.length === 0 && root !== undefined) {
      // First sample: the average since the process started.
      history.push({ at: at - ((bootTicks - root.startTimeTicks) / CLOCK_TICKS_PER_SECOND) * 1000, usec: 0 });
    }
    history.push({ at, usec });
    const windowMs = state.options.cpuWindowMs ?? this.cpuWindowMs;
    // Keep exactly one point at or before the window start.
    while (history.length > 2 && (history[1]?.at ?? at) <= at - windowMs) history.shift();
    const base = history[0] ?? { at, usec };
    const span = at - base.at;
    return span <= 0 ? { percent: 0, windowMs: 0 } : { percent: Math.max(0, ((usec - base.usec) / (span * 1000)) * 100), windowMs: span };
  }

  /** Samples every intervalMs until close(); errors of the listener go to onError. */
  start(intervalMs: number, onSamples: (samples: ResourceSample[]) => void, onError: (error: unknown) => void): void {
    this.close();
    this.timer = setInterval(() => {
      try {
        onSamples(this.sample());
      } catch (error) {
        onError(error);
      }
    }, intervalMs);
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
