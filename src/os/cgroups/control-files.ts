/** Reading and writing cgroup control files, with coded errors instead of raw errnos. */
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { hsuError } from '../../errors.js';

export function readControl(file: string): string | undefined {
  try {
    return readFileSync(file, 'latin1');
  } catch {
    return undefined; // absent (controller not enabled here) or the group is gone
  }
}

/** A single number; "max" (v2's unlimited) is Infinity; undefined when absent or not a number. */
export function readNumber(file: string): number | undefined {
  const text = readControl(file)?.trim();
  if (text === undefined || text === '') return undefined;
  if (text === 'max') return Number.POSITIVE_INFINITY;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** The value of `key` in a flat-keyed file (cpu.stat, memory.events, memory.oom_control). */
export function readKeyed(file: string, key: string): number | undefined {
  const text = readControl(file);
  if (text === undefined) return undefined;
  const match = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** Member pids, from cgroup.procs (one per line). */
export function readPids(file: string): number[] {
  const text = readControl(file);
  if (text === undefined) return [];
  const out: number[] = [];
  for (const line of text.split('\n')) if (line !== '') out.push(Number(line));
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
