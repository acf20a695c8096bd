/**
 * Resource usage of every watched process worker from ONE pass over /proc per tick: the stat file
 * of each process (which already holds ppid, cpu ticks, threads, rss and start time), plus the
 * fd count of each watched root and, for a worker with a cgroup, its usage counters. Cost grows
 * with the processes on the machine, not with the number of workers times that.
 *
 * The files read every tick for the same worker (its root's stat, its group's counters, v2's
 * cgroup.procs) stay open between ticks and are re-read with pread (KeptFiles): at 100 workers
 * that is most of a tick's syscalls saved. Every field is as fresh as the tick that reports it.
 */
import { readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { CLOCK_TICKS_PER_SECOND } from './proc.js';
import type { ControlReader } from './cgroups/control-files.js';
import type { CgroupUsage } from './cgroups/types.js';
import { defaultFileBudget, FileBudget, KeptFiles } from './kept-files.js';
import { countOpenFds, PAGE_SIZE } from './proc-files.js';
import { parseStatFields, readStat, scanAll, type Identity, type StatFields } from './proc-stat.js';

/** cgroup.procs is read at least every this many passes, however its count agrees (see membershipOf). */
const FULL_MEMBERSHIP_EVERY = 10;

/**
 * What the sampler needs of a worker's cgroup (a WorkerCgroup fits). `read` is the sampler's
 * reader over kept descriptors; an implementation uses it only for files a re-read at offset 0
 * regenerates (not v1's cgroup.procs).
 */
export interface SampledCgroup {
  readUsage(read?: ControlReader): CgroupUsage;
  pids(read?: ControlReader): number[];
  /** Tasks (threads) in the group (v1 pids.current): offered where pids() costs a fresh open every time. */
  taskCount?(read?: ControlReader): number | undefined;
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
  /**
   * Live descendants: by ppid links, plus cgroup members that were reparented (double fork); with a
   * cgroup on every worker, its members. As of this pass: a v1 group's reused member list is
   * checked against pids.current in the same pass (membershipOf says the one race that can hide a
   * newcomer for a single pass).
   */
  readonly descendants: number;
  readonly cgroup_memory_bytes?: number;
}

export interface SamplerOptions {
  /** Default CPU window: 10 s. */
  readonly cpuWindowMs?: number;
  /** Descriptors kept open between ticks (up to 4 per worker); default a quarter of RLIMIT_NOFILE, at most 1024. */
  readonly keptFiles?: number;
}

interface Watched {
  readonly identity: Identity;
  readonly options: WatchOptions;
  /** The root's stat and fd directory, the group's counters, open between ticks; closed by unwatch and close. */
  readonly files: KeptFiles;
  /** files.read, bound once (no closure per tick). */
  readonly read: ControlReader;
  readonly statPath: string;
  readonly fdPath: string;
  /** The group's members at the last cgroup.procs read, with their start times. */
  members?: { readonly pids: readonly number[]; readonly starts: readonly number[] };
  passesSinceListed: number;
  /** Per-process ticks at the previous pass, keyed by pid (checked against start time). */
  ticks: Map<number, { start: number; ticks: number }>;
  consumedTicks: number;
  history: { at: number; usec: number }[];
  lastBootTicks?: number;
}

const USEC_PER_TICK = 1_000_000 / CLOCK_TICKS_PER_SECOND;

/** A process's stat from this pass's map; read and added when missing, unless the map is a full scan. */
function statOf(all: Map<number, StatFields>, pid: number, readMissing: boolean): StatFields | undefined {
  let found = all.get(pid);
  if (found === undefined && readMissing) {
    found = readStat(pid);
    if (found !== undefined) all.set(pid, found);
  }
  return found;
}

export class ProcSampler {
  private readonly watched = new Map<string, Watched>();
  private readonly cpuWindowMs: number;
  private readonly budget: FileBudget;
  /** /proc/uptime, read once per pass. */
  private readonly own: KeptFiles;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: SamplerOptions = {}) {
    this.cpuWindowMs = options.cpuWindowMs ?? 10_000;
    this.budget = new FileBudget(options.keptFiles ?? defaultFileBudget());
    this.own = new KeptFiles(this.budget);
  }

  /** Starts (or replaces) the watch of a worker's root process. */
  watch(worker: string, identity: Identity, options: WatchOptions = {}): void {
    this.watched.get(worker)?.files.close();
    const files = new KeptFiles(this.budget);
    const read: ControlReader = (file) => files.read(file);
    this.watched.set(worker, { identity, options, files, read, statPath: `/proc/${identity.pid}/stat`, fdPath: `/proc/${identity.pid}/fd`, passesSinceListed: 0, ticks: new Map(), consumedTicks: 0, history: [] });
  }

  unwatch(worker: string): void {
    this.watched.get(worker)?.files.close();
    this.watched.delete(worker);
  }

  get size(): number {
    return this.watched.size;
  }

  /** Descriptors held open between ticks, for every watched worker together. */
  get keptFiles(): number {
    return this.budget.used;
  }

  /**
   * One pass for every watched worker. When every worker has a cgroup its members are the tree, so
   * only their stat files are read; otherwise every process's stat is read once (the ppid links).
   */
  sample(): ResourceSample[] {
    if (this.watched.size === 0) return [];
    let grouped = true;
    for (const state of this.watched.values()) if (state.options.cgroup === undefined) grouped = false;
    const all = grouped ? new Map<number, StatFields>() : scanAll();
    const members = new Map<string, readonly number[]>();
    for (const [worker, state] of this.watched) {
      const cgroup = state.options.cgroup;
      if (grouped) {
        // The root through its kept descriptor, right before its group's count (membershipOf).
        const text = state.files.read(state.statPath);
        const stat = text === undefined ? undefined : parseStatFields(text);
        if (stat !== undefined) all.set(stat.pid, stat);
      }
      if (cgroup !== undefined) members.set(worker, this.membershipOf(state, cgroup, all, grouped));
    }
    const children = new Map<number, number[]>();
    if (!grouped) {
      for (const stat of all.values()) {
        const list = children.get(stat.ppid);
        if (list === undefined) children.set(stat.ppid, [stat.pid]);
        else list.push(stat.pid);
      }
    }
    const at = performance.now();
    const time = Date.now();
    const bootTicks = Number((this.own.read('/proc/uptime') ?? '0').split(' ')[0]) * CLOCK_TICKS_PER_SECOND;
    const out: ResourceSample[] = [];
    for (const [worker, state] of this.watched) out.push(this.sampleOne(worker, state, all, children, members.get(worker) ?? [], at, time, bootTicks));
    return out;
  }

  /**
   * The group's member pids. Where cgroup.procs cannot be kept open (v1: see CgroupV1.pids) and
   * the group counts its tasks (pids.current), the last list is reused while it provably still
   * holds: every known member alive with its start time, and their threads summing to the group's
   * task count (a join, a fork, an exit or a move out changes one side only). The count is read
   * right after the members' stats, so the sides can only be fooled by a known member's thread
   * exiting within those microseconds while a new member arrives; the list is re-read next pass
   * then (the sum changed), and every FULL_MEMBERSHIP_EVERY passes regardless.
   */
  private membershipOf(state: Watched, cgroup: SampledCgroup, all: Map<number, StatFields>, readMissing: boolean): readonly number[] {
    const known = state.members;
    if (known !== undefined && cgroup.taskCount !== undefined && state.passesSinceListed < FULL_MEMBERSHIP_EVERY) {
      let threads = 0;
      let holds = true;
      for (let i = 0; holds && i < known.pids.length; i++) {
        const member = statOf(all, known.pids[i] ?? 0, readMissing);
        if (member === undefined || member.state === 'Z' || member.startTimeTicks !== known.starts[i]) holds = false;
        else threads += member.threads;
      }
      if (holds && cgroup.taskCount(state.read) === threads) {
        state.passesSinceListed++;
        return known.pids;
      }
    }
    const pids = cgroup.pids(state.read);
    state.members = { pids, starts: pids.map((pid) => statOf(all, pid, readMissing)?.startTimeTicks ?? -1) };
    state.passesSinceListed = 0;
    return pids;
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
    const usage = alive ? state.options.cgroup?.readUsage(state.read) : undefined;
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
      open_fds: alive ? this.openFds(state) : 0,
      threads,
      root_threads: alive ? root.threads : 0,
      descendants: Math.max(0, tree.length - 1),
      ...(usage?.memory_bytes === undefined ? {} : { cgroup_memory_bytes: usage.memory_bytes }),
    };
  }

  /**
   * The root's descriptors: fstat of its kept /proc/PID/fd (the size is the count since Linux
   * 6.2); an older kernel reports 0 and gets the listing.
   */
  private openFds(state: Watched): number {
    const size = state.files.sizeOf(state.fdPath);
    if (size !== undefined && size > 0) return size;
    return countOpenFds(state.identity.pid, readdirSync) ?? 0;
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

  /** Stops the timer and closes every kept descriptor; a later sample() reopens what it reads. */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    for (const state of this.watched.values()) state.files.close();
    this.own.close();
  }
}
