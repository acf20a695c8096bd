/**
 * The fields of /proc/PID/stat the sampler and discovery need, parsed in one pass. A superset of
 * src/os/proc.ts's ProcStat (threads, rss, session), kept separate so that file stays as is.
 */
import { readdirSync } from 'node:fs';
import type { ProcessIdentity } from './proc.js';
import { isPidName, readSmallFile } from './proc-files.js';

export interface StatFields {
  readonly pid: number;
  readonly ppid: number;
  readonly pgid: number;
  readonly sid: number;
  /** R running, S sleeping, D disk wait, Z zombie, T stopped, ... */
  readonly state: string;
  /** utime + stime, in clock ticks. */
  readonly cpuTicks: number;
  readonly threads: number;
  /** Start time in ticks since boot: pid + this names a process uniquely. */
  readonly startTimeTicks: number;
  readonly rssPages: number;
}

/** A process named so that a recycled pid never passes for it: pid + start time. */
export type Identity = ProcessIdentity;

/**
 * Parses the text of /proc/PID/stat. The comm (2nd field) may hold spaces and parentheses, so the
 * numeric fields are found after the LAST ')'. Field n (1-based, as in proc(5)) is rest[n - 3].
 */
export function parseStatFields(text: string): StatFields | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open));
  const rest = text.slice(close + 2).split(' ', 22);
  if (!Number.isInteger(pid) || rest.length < 22) return undefined;
  const field = (n: number): number => Number(rest[n - 3]);
  return {
    pid,
    ppid: field(4),
    pgid: field(5),
    sid: field(6),
    state: rest[0] ?? '?',
    cpuTicks: field(14) + field(15),
    threads: field(20),
    startTimeTicks: field(22),
    rssPages: field(24),
  };
}

export function readStat(pid: number): StatFields | undefined {
  const text = readSmallFile(`/proc/${pid}/stat`);
  return text === undefined ? undefined : parseStatFields(text);
}

/** The identity of a live (non-zombie) process, or undefined. */
export function identityOf(pid: number): Identity | undefined {
  const stat = readStat(pid);
  return stat === undefined || stat.state === 'Z' ? undefined : { pid, startTimeTicks: stat.startTimeTicks };
}

/** True while the pid still names the same live process (not exited, not a zombie, not recycled). */
export function isSame(identity: Identity): boolean {
  const stat = readStat(identity.pid);
  return stat !== undefined && stat.state !== 'Z' && stat.startTimeTicks === identity.startTimeTicks;
}

/** Every process's stat in one pass over /proc; processes that exit mid-pass are skipped. */
export function scanAll(): Map<number, StatFields> {
  const out = new Map<number, StatFields>();
  for (const name of readdirSync('/proc')) {
    if (!isPidName(name)) continue;
    const stat = readStat(Number(name));
    if (stat !== undefined) out.set(stat.pid, stat);
  }
  return out;
}
