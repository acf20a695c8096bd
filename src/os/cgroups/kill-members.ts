/**
 * Kills every member of a cgroup without cgroup.kill. A member may fork between our reading of
 * cgroup.procs and our SIGKILL; freezing first stops that race (a frozen task cannot fork), and
 * rounds repeat until the group reads empty.
 */
import { hsuError } from '../../errors.js';
import { sleep } from './control-files.js';
import type { KillReport } from './types.js';

export interface MemberOps {
  pids(): number[];
  /** Present when a freezer exists (v2 cgroup.freeze, v1 freezer.state). */
  readonly freezer?: {
    set(frozen: boolean): void;
    isFrozen(): boolean;
  };
}

const FREEZE_WAIT_MS = 200;

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // ESRCH: already gone, the goal anyway
  }
}

async function waitFrozen(freezer: NonNullable<MemberOps['freezer']>): Promise<void> {
  const deadline = Date.now() + FREEZE_WAIT_MS;
  // A task in uninterruptible sleep delays freezing; killing anyway is still right, only racier.
  while (!freezer.isFrozen() && Date.now() < deadline) await sleep(2);
}

/** Resolves once cgroup.procs reads empty; throws CGROUP_KILL_INCOMPLETE after timeoutMs. */
export async function waitEmpty(ops: MemberOps, timeoutMs: number, group: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = ops.pids();
    if (left.length === 0) return;
    if (Date.now() >= deadline) throw hsuError('CGROUP_KILL_INCOMPLETE', `${left.length} process(es) remain in cgroup ${group}`, { group, pids: left });
    await sleep(5);
  }
}

export async function freezeAndKill(ops: MemberOps, timeoutMs: number, group: string): Promise<KillReport> {
  const seen = new Set<number>();
  const deadline = Date.now() + timeoutMs;
  let rounds = 0;
  for (;;) {
    const pids = ops.pids();
    if (pids.length === 0) break;
    if (Date.now() >= deadline) throw hsuError('CGROUP_KILL_INCOMPLETE', `${pids.length} process(es) remain in cgroup ${group} after ${rounds} round(s)`, { group, pids, rounds });
    rounds++;
    if (ops.freezer !== undefined) {
      ops.freezer.set(true);
      await waitFrozen(ops.freezer);
    }
    // Read again once frozen: this list can no longer grow.
    for (const pid of ops.pids()) {
      seen.add(pid);
      kill(pid);
    }
    // SIGKILL is delivered to a frozen task only once thawed (v1); thaw so it can die.
    ops.freezer?.set(false);
    await sleep(rounds === 1 ? 1 : 5);
  }
  return { method: ops.freezer === undefined ? 'signal' : 'freeze-kill', rounds, killed: seen.size };
}
