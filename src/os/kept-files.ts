/**
 * Descriptors kept open across sampling ticks. A tick re-reads the same files (a root's
 * /proc/PID/stat, a group's usage counters) every second; pread at offset 0 on a descriptor opened
 * once costs one syscall where open + read + close costs four (measured on /proc and cgroupfs: the
 * kernel regenerates the text on every read at 0, so the figures are as fresh as a new open's).
 *
 * A kept /proc/PID descriptor fails with ESRCH once that process is reaped, even if the pid is
 * reused; a kept cgroupfs descriptor fails with ENODEV once its directory is removed, even if one of
 * the same name is made again. Either way the descriptor is closed and the next read opens the
 * path afresh, so a stale file is never read twice.
 *
 * A kept directory serves fstat: the size of /proc/PID/fd is its descriptor count (Linux 6.2+),
 * and fstat of a kept descriptor skips the path walk that makes stat() cost 2-3x more (measured).
 *
 * Not every file may be kept: v1's cgroup.procs caches its pid list per open file and a pread
 * returns that cached list (see CgroupV1.pids), so callers decide which paths go through here.
 *
 * Descriptors count against the master's RLIMIT_NOFILE, so one budget bounds them all; a file read
 * while the budget is spent is opened, read and closed as before (correct, only costlier).
 */
import { closeSync, fstatSync, openSync, statSync } from 'node:fs';
import { preadText, readSmallFile } from './proc-files.js';

/** How many descriptors every KeptFiles sharing this budget may hold together. */
export class FileBudget {
  used = 0;
  constructor(readonly max: number) {}
}

/** At most a quarter of the soft RLIMIT_NOFILE (the master has logs, sockets, pipes), and 1024. */
export function defaultFileBudget(): number {
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(readSmallFile('/proc/self/limits') ?? '');
  const soft = match?.[1] === undefined || match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1]);
  return Math.max(0, Math.min(1024, Math.floor(soft / 4)));
}

/** One owner's kept descriptors (a watched worker's); close() releases them. */
export class KeptFiles {
  private readonly fds = new Map<string, number>();

  constructor(private readonly budget: FileBudget) {}

  /** The file's current text, or undefined when it is gone or unreadable. */
  read(file: string): string | undefined {
    const fd = this.descriptor(file);
    if (fd === undefined) return this.budget.used >= this.budget.max ? readSmallFile(file) : undefined;
    const text = preadText(fd);
    if (text === undefined) this.drop(file, fd);
    return text;
  }

  /** stat().size of a file or directory, or undefined when it is gone. */
  sizeOf(file: string): number | undefined {
    const fd = this.descriptor(file);
    try {
      if (fd !== undefined) return fstatSync(fd).size;
      return this.budget.used >= this.budget.max ? statSync(file).size : undefined;
    } catch {
      if (fd !== undefined) this.drop(file, fd);
      return undefined;
    }
  }

  get size(): number {
    return this.fds.size;
  }

  close(): void {
    for (const [file, fd] of this.fds) this.drop(file, fd);
  }

  /** The kept descriptor, opened now if the budget allows; undefined when absent or over budget. */
  private descriptor(file: string): number | undefined {
    const kept = this.fds.get(file);
    if (kept !== undefined || this.budget.used >= this.budget.max) return kept;
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      return undefined; // absent: the process exited, the controller is not there, the group is gone
    }
    this.fds.set(file, fd);
    this.budget.used++;
    return fd;
  }

  private drop(file: string, fd: number): void {
    this.fds.delete(file);
    this.budget.used--;
    try {
      closeSync(fd);
    } catch {
      // already closed: nothing is held
    }
  }
}
