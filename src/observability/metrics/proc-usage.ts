/**
 * CPU time and resident memory of a worker's process, read from /proc/PID/stat at scrape time (a
 * few µs a process; the sampler's per-tick figures sit behind the full diagnostics, which cost
 * ~100 µs a worker). CPU includes the children the process waited for (cutime, cstime).
 */
import { PAGE_SIZE, readSmallFile } from '../../os/proc-files.js';
import { CLOCK_TICKS_PER_SECOND } from '../../os/proc.js';

export interface ProcessUsage {
  readonly cpu_seconds: number;
  readonly rss_bytes: number;
}

export function readProcessUsage(pid: number): ProcessUsage | undefined {
  const text = readSmallFile(`/proc/${pid}/stat`);
  if (text === undefined) return undefined;
  // The comm field may hold spaces and parentheses: the numeric fields follow the last ')'.
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // rest[n - 3] is field n of proc(5): 14 utime, 15 stime, 16 cutime, 17 cstime, 24 rss (pages).
  const rest = text.slice(close + 2).split(' ', 22);
  const field = (n: number): number => Number(rest[n - 3]);
  const ticks = field(14) + field(15) + field(16) + field(17);
  const rss = field(24);
  if (!Number.isFinite(ticks) || !Number.isFinite(rss)) return undefined;
  return { cpu_seconds: ticks / CLOCK_TICKS_PER_SECOND, rss_bytes: rss * PAGE_SIZE };
}
