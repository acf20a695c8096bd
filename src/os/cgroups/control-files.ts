/** Reading and writing cgroup control files, with coded errors instead of raw errnos. */
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { hsuError } from '../../errors.js';
import { readSmallFile } from '../proc-files.js';

/** How a control file's text is fetched: open/read/close by default, a kept descriptor for the sampler. */
export type ControlReader = (file: string) => string | undefined;

/**
 * The text of a control file; undefined when absent (controller not enabled here) or the group is
 * gone. Not readFileSync: cgroupfs reports size 0, so Node reads it into a fresh 64 KiB buffer
 * every call, garbage the sampler would make per worker per tick.
 */
export function readControl(file: string): string | undefined {
  return readSmallFile(file);
}

/** A single number; "max" (v2's unlimited) is Infinity; undefined when absent or not a number. */
export function readNumber(file: string, read: ControlReader = readControl): number | undefined {
  const text = read(file)?.trim();
  if (text === undefined || text === '') return undefined;
  if (text === 'max') return Number.POSITIVE_INFINITY;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** The value of `key` in a flat-keyed file (cpu.stat, memory.events, memory.oom_control). */
export function readKeyed(file: string, key: string, read: ControlReader = readControl): number | undefined {
  const text = read(file);
  if (text === undefined) return undefined;
  // A line "key N": at the start of the text or after a newline, so "usage_usec" never matches "xusage_usec".
  for (let at = text.indexOf(`${key} `); at >= 0; at = text.indexOf(`${key} `, at + 1)) {
    if (at > 0 && text.charCodeAt(at - 1) !== 10) continue;
    const end = text.indexOf('\n', at);
    const value = text.slice(at + key.length + 1, end < 0 ? undefined : end);
    return /^\d+$/.test(value) ? Number(value) : undefined;
  }
  return undefined;
}

/** Member pids, from cgroup.procs (one per line). */
export function readPids(file: string, read: ControlReader = readControl): number[] {
  const text = read(file);
  if (text === undefined) return [];
  const out: number[] = [];
  for (let at = 0; at < text.length; ) {
    const end = text.indexOf('\n', at);
    const stop = end < 0 ? text.length : end;
    if (stop > at) out.push(Number(text.slice(at, stop)));
    at = stop + 1;
  }
  return out;
}

export function writeControl(file: string, value: string): void {
  try {
    writeFileSync(file, value);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw hsuError('CGROUP_WRITE_FAILED', `cannot write ${JSON.stringify(value)} to ${file}: ${code ?? String(error)}`, { file, value, errno: code }, error);
  }
}

/** Writes when the file exists; false when it does not (the controller is not available there). */
export function writeIfPresent(file: string, value: string): boolean {
  if (readControl(file) === undefined) return false;
  writeControl(file, value);
  return true;
}

/** mkdir; an existing directory is fine (true = it was created now). Throws CGROUP_CREATE_FAILED. */
export function makeGroupDir(dir: string, recursive = false): boolean {
  try {
    mkdirSync(dir, { recursive });
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    throw hsuError('CGROUP_CREATE_FAILED', `cannot create cgroup ${dir}: ${code ?? String(error)}`, { dir, errno: code }, error);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * rmdir of a cgroup. The kernel refuses (EBUSY) while a member is still exiting, so it is retried
 * briefly; a group that is already gone counts as removed.
 */
export async function removeGroupDir(dir: string, attempts = 50, delayMs = 10): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      rmdirSync(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || attempt >= attempts) {
        throw hsuError('CGROUP_REMOVE_FAILED', `cannot remove cgroup ${dir}: ${code ?? String(error)}`, { dir, errno: code }, error);
      }
    }
    await sleep(delayMs);
  }
}
