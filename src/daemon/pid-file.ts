/**
 * The state directory's files about the master itself: `master.pid` (the conventional pid file,
 * for systemd's PIDFile=, monitoring scripts and humans) and, to tell whether a master is running,
 * the lock the Master holds (`master.lock`: pid + start time, so a recycled pid is not mistaken
 * for a live master).
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isSameProcess } from '../os/proc.js';

export const PID_FILE_NAME = 'master.pid';
export const MASTER_LOG_NAME = 'master.log';
const LOCK_FILE_NAME = 'master.lock';

/** The pid of the live master owning `stateDir`, if any. */
export function runningMasterPid(stateDir: string): number | undefined {
  try {
    const owner = JSON.parse(readFileSync(path.join(stateDir, LOCK_FILE_NAME), 'utf8')) as { pid?: unknown; startTimeTicks?: unknown };
    if (typeof owner.pid !== 'number' || typeof owner.startTimeTicks !== 'number') return undefined;
    return isSameProcess({ pid: owner.pid, startTimeTicks: owner.startTimeTicks }) ? owner.pid : undefined;
  } catch {
    return undefined; // no lock: nobody owns the directory
  }
}

export function writePidFile(stateDir: string): string {
  const file = path.join(stateDir, PID_FILE_NAME);
  writeFileSync(file, `${process.pid}\n`, { mode: 0o644 });
  return file;
}

/** Removes the pid file if it is still ours (a successor may already have written its own). */
export function removePidFile(stateDir: string): void {
  const file = path.join(stateDir, PID_FILE_NAME);
  try {
    if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
  } catch {
    // already gone
  }
}
