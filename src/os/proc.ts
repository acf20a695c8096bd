/**
 * OS facts read straight from /proc (Linux only). Reads are synchronous on purpose: /proc files are
 * generated in-kernel in microseconds, and a sync read cannot interleave with a process exit.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** USER_HZ: the unit of every tick count in /proc; 100 on every mainstream Linux build. */
export const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  readonly pgid: number;
  /** One letter: R running, S sleeping, D disk wait, Z zombie, T stopped, ... */
  readonly state: string;
  readonly utimeTicks: number;
  readonly stimeTicks: number;
  /** Start time in ticks since boot; together with pid it names a process uniquely. */
  readonly startTimeTicks: number;
}

/** A pid is recycled after exit; pid + start time is not, so we check it before signalling a snapshot. */
export interface ProcessIdentity {
  readonly pid: number;
  readonly startTimeTicks: number;
}

/**
 * Parses the text of /proc/PID/stat. The comm field (2nd) may contain spaces and parentheses, so the
 * fields after it are found from the LAST ')'.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  // rest[0] is field 3 (state); field n is rest[n - 3].
  const rest = text.slice(close + 2).split(' ');
  const field = (n: number): number => Number(rest[n - 3]);
  const state = rest[0];
  if (!Number.isInteger(pid) || state === undefined || rest.length < 20) return undefined;
  return {
    pid,
    ppid: field(4),
    pgid: field(5),
    state,
    utimeTicks: field(14),
    stimeTicks: field(15),
    startTimeTicks: field(22),
  };
}

export function readProcStat(pid: number): ProcStat | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined; // gone (ENOENT/ESRCH) between listing and reading
  }
}

/** Exists and is not a zombie: a zombie has exited and only waits to be reaped. */
export function isAlive(pid: number): boolean {
  const stat = readProcStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

/** Resident set size in bytes, from VmRSS (kB) so no page-size guess is needed. */
export function readRssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    // Zombies and kernel threads have no VmRSS line: nothing resident.
    return match?.[1] === undefined ? 0 : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

export function processIdentity(pid: number): ProcessIdentity | undefined {
  const stat = readProcStat(pid);
  return stat === undefined ? undefined : { pid, startTimeTicks: stat.startTimeTicks };
}

/** True when the pid still names the same process (not exited, not recycled). */
export function isSameProcess(identity: ProcessIdentity): boolean {
  const stat = readProcStat(identity.pid);
  return stat !== undefined && stat.state !== 'Z' && stat.startTimeTicks === identity.startTimeTicks;
}

/** One pass over /proc: every live process's stat. */
export function listAllProcesses(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    const first = name.charCodeAt(0);
    if (first < 48 || first > 57) continue; // not a pid directory
    const stat = readProcStat(Number(name));
    if (stat !== undefined) out.push(stat);
  }
  return out;
}

/** All descendants (children, grandchildren, ...) of pid, including ones that left its process group. */
export function listDescendants(pid: number): number[] {
  return listDescendantStats(pid).map((stat) => stat.pid);
}

/**
 * How long one pass over /proc serves descendant lookups. A shutdown stops every worker at once and
 * each stop needs the tree of its root: without sharing, 100 process workers cost 100 full scans
 * of /proc (seconds on a busy host); with it, a handful. Callers that signal from a snapshot check
 * each process's identity first, so a stale entry never hits a recycled pid.
 */
export const PROC_SNAPSHOT_TTL_MS = 25;
let snapshot: { readonly at: number; readonly children: Map<number, ProcStat[]> } | undefined;

function childrenByParent(): Map<number, ProcStat[]> {
  const now = performance.now();
  if (snapshot !== undefined && now - snapshot.at < PROC_SNAPSHOT_TTL_MS) return snapshot.children;
  const children = new Map<number, ProcStat[]>();
  for (const stat of listAllProcesses()) {
    const siblings = children.get(stat.ppid);
    if (siblings === undefined) children.set(stat.ppid, [stat]);
    else siblings.push(stat);
  }
  snapshot = { at: now, children };
  return children;
}

/** Like {@link listDescendants}, with each descendant's stat (its pgid, its start time), from a /proc pass at most {@link PROC_SNAPSHOT_TTL_MS} old. */
export function listDescendantStats(pid: number): ProcStat[] {
  const children = childrenByParent();
  const out: ProcStat[] = [];
  const queue = [pid];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    for (const child of children.get(next) ?? []) {
      out.push(child);
      queue.push(child.pid);
    }
  }
  return out;
}

export function listProcessGroup(pgid: number): number[] {
  return listAllProcesses()
    .filter((stat) => stat.pgid === pgid)
    .map((stat) => stat.pid);
}

function readUptimeSeconds(): number {
  return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
}

/**
 * CPU usage of one process in percent of one core (can exceed 100 with several threads). The first
 * sample is the average since the process started; each later one covers the time since the previous.
 */
export class CpuSampler {
  private lastTicks: number | undefined;
  private lastUptime = 0;

  constructor(readonly pid: number) {}

  sample(): number | undefined {
    const stat = readProcStat(this.pid);
    if (stat === undefined) return undefined;
    const ticks = stat.utimeTicks + stat.stimeTicks;
    const uptime = readUptimeSeconds();
    const sinceTicks = this.lastTicks ?? 0;
    const sinceSeconds = this.lastTicks === undefined ? stat.startTimeTicks / CLOCK_TICKS_PER_SECOND : this.lastUptime;
    this.lastTicks = ticks;
    this.lastUptime = uptime;
    const elapsed = uptime - sinceSeconds;
    // /proc/uptime has 10 ms resolution: two samples in the same tick carry no information.
    if (elapsed <= 0) return 0;
    return Math.max(0, ((ticks - sinceTicks) / CLOCK_TICKS_PER_SECOND / elapsed) * 100);
  }
}
