/**
 * One signal to each process of a process worker: its group (one kill(-pgid)), each descendant
 * that left the group, and each member of its cgroup that is no one's descendant any more (a
 * double-forked daemon). Shared by the instance the master spawned and the one it adopted.
 */
import type { WorkerCgroup } from '../../os/cgroups/index.js';
import { signalIdentities, signalQuietly, signalTree } from '../../os/kill-tree.js';
import { readProcStat, type ProcessIdentity } from '../../os/proc.js';

/** Signals the worker rooted at `pid`; remembers every descendant seen in `known`, to finish them by identity later. */
export function signalWorker(pid: number, cgroup: WorkerCgroup | undefined, known: Map<number, ProcessIdentity>, signal: NodeJS.Signals): void {
  const seen = new Set<number>();
  for (const id of signalTree(pid, pid, signal)) {
    known.set(id.pid, id);
    seen.add(id.pid);
  }
  for (const member of cgroup?.pids() ?? []) {
    if (member !== pid && !seen.has(member) && readProcStat(member)?.pgid !== pid) signalQuietly(member, signal);
  }
}

/** The root has exited: SIGKILL what is left of its group and the descendants seen, at once (the cgroup is emptied after). */
export function finishWorker(pid: number, known: Map<number, ProcessIdentity>): void {
  signalQuietly(-pid, 'SIGKILL');
  signalIdentities(known.values(), 'SIGKILL');
}
