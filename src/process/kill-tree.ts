/**
 * Signals a whole process tree. The process group catches every child that stayed in it; the
 * descendant snapshot catches the ones that left it (setsid, setpgid), which a group kill misses.
 */
import { isAlive, isSameProcess, listDescendants, processIdentity, type ProcessIdentity } from './proc.js';

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
 * Signals the group `pgid` and every current descendant of `pid`. Returns the identities of the
 * descendants seen, so a caller can finish them later without hitting a recycled pid.
 */
export function signalTree(pid: number, pgid: number, signal: NodeJS.Signals): ProcessIdentity[] {
  // Snapshot first: once the root dies its children are reparented and no longer findable from pid.
  const descendants = listDescendants(pid)
    .map(processIdentity)
    .filter((id): id is ProcessIdentity => id !== undefined);
  signalQuietly(-pgid, signal);
  signalQuietly(pid, signal);
  signalIdentities(descendants, signal);
  return descendants;
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
