/**
 * Cheap /proc reads for hot paths. readFileSync on a /proc file costs open + fstat + two reads +
 * close and a fresh buffer each time (the size is reported as 0, so Node reads until EOF); one
 * shared buffer with open + read + close is enough for the small files sampled every tick.
 */
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';

let shared = Buffer.allocUnsafe(8192);

/**
 * Text of a small kernel-generated file, or undefined when it is gone (the process exited) or
 * unreadable. Reads until EOF, growing the shared buffer for the rare long file (a long cmdline).
 */
export function readSmallFile(file: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    return preadText(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Text of a file already open on `fd`, re-read from offset 0 with pread (no open, no close; the
 * kernel regenerates /proc and cgroupfs text on every read at 0). Undefined when the read fails:
 * ESRCH once a /proc/PID process is reaped, ENODEV once a cgroup directory is removed.
 */
export function preadText(fd: number): string | undefined {
  try {
    let length = 0;
    for (;;) {
      if (length === shared.length) {
        const grown = Buffer.allocUnsafe(shared.length * 2);
        shared.copy(grown, 0, 0, length);
        shared = grown;
      }
      const n = readSync(fd, shared, length, shared.length - length, length);
      if (n === 0) break;
      length += n;
    }
    return shared.toString('latin1', 0, length);
  } catch {
    return undefined;
  }
}

/** Numeric directory names under /proc: one per process (threads live under /proc/PID/task). */
export function isPidName(name: string): boolean {
  const first = name.charCodeAt(0);
  return first >= 48 && first <= 57;
}

/**
 * Open descriptors of a process. Since Linux 6.2 stat() of /proc/PID/fd reports the count as its
 * size, which costs one syscall instead of listing every entry; older kernels report 0 and get
 * the listing. Undefined when the process is gone or not ours to inspect.
 */
export function countOpenFds(pid: number, readdir: (dir: string) => string[]): number | undefined {
  const dir = `/proc/${pid}/fd`;
  try {
    const size = statSync(dir).size;
    if (size > 0) return size;
    return readdir(dir).length;
  } catch {
    return undefined;
  }
}

const AT_PAGESZ = 6n;

/** The kernel's page size, from the auxiliary vector it handed this process (exact, no guess). */
function readPageSize(): number {
  try {
    const auxv = readFileSync('/proc/self/auxv');
    for (let at = 0; at + 16 <= auxv.length; at += 16) {
      if (auxv.readBigUInt64LE(at) === AT_PAGESZ) return Number(auxv.readBigUInt64LE(at + 8));
    }
  } catch {
    // fall through: 4 KiB is the page size of every mainstream x86-64 and most arm64 kernels
  }
  return 4096;
}

export const PAGE_SIZE = readPageSize();

/** Boot time in ms since the epoch (/proc/stat btime, whole seconds). */
export function bootTimeMs(): number {
  const match = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'latin1'));
  return match?.[1] === undefined ? 0 : Number(match[1]) * 1000;
}
