/**
 * Signals a whole process tree, each process exactly once per call. The process group reaches every
 * process that stayed in it with one kill(); the descendants that left it (setsid, setpgid) are
 * found in a /proc snapshot taken first and signalled one by one. Signalling a process twice in one
 * step is a bug, not extra safety: many servers read a second SIGTERM as "force".
 */
import { isAlive, isSameProcess, listDescendantStats, readProcStat, type ProcessIdentity } from './proc.js';

/**
 * Sends a signal; false when the target is gone (ESRCH: the goal anyway) or not ours to signal
 * (EPERM: a descendant that changed user). Neither may throw out of an exit handler.
 */
export function signalQuietly(target: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(target, signal);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ESRCH' || code === 'EPERM') return false;
    throw err;
  }
}

/**
 * Signals the group `pgid` (led by `pid`) and every current descendant of `pid` outside that group.
 * Returns the identities of all descendants seen, so a caller can finish them later without
 * hitting a recycled pid.
 */
export function signalTree(pid: number, pgid: number, signal: NodeJS.Signals): ProcessIdentity[] {
  // Snapshot first: once the root dies its children are reparented and no longer findable from pid.
  const descendants = listDescendantStats(pid);
  const root = readProcStat(pid);
  signalQuietly(-pgid, signal);
  // The root too, when it is not in that group (a process recorded by an earlier master, say).
  if (root !== undefined && root.pgid !== pgid) signalQuietly(pid, signal);
  for (const stat of descendants) {
    // The snapshot may be a few ms old: signal only a process that still is the one it saw.
    if (stat.pgid !== pgid && isSameProcess({ pid: stat.pid, startTimeTicks: stat.startTimeTicks })) signalQuietly(stat.pid, signal);
  }
  return descendants.map((stat) => ({ pid: stat.pid, startTimeTicks: stat.startTimeTicks }));
}

/** Signals each snapshotted process that still is the same process. */
export function signalIdentities(identities: Iterable<ProcessIdentity>, signal: NodeJS.Signals): void {
  for (const identity of identities) {
    if (isSameProcess(identity)) signalQuietly(identity.pid, signal);
  }
}

/** Polls /proc until none of `pids` is alive; resolves false if some are still there after timeoutMs. */
export async function waitForGone(pids: readonly number[], timeoutMs: number, intervalMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!pids.some(isAlive)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
