/**
 * What a dead master left running, decided once per start: each recorded process is adopted (same
 * pid, supervised again, its cgroup reopened) when its worker is still configured the same way
 * with `on_master_restart: adopt`, and killed with its tree otherwise. Never duplicated: an adopted
 * worker is running, so the start that follows leaves it alone. Never orphaned: what is not adopted
 * is killed, and the dead master's other cgroups are swept.
 */
import type { Logger } from 'pino';
import { adoptable, configHash, type WorkerConfig } from '../config/index.js';
import type { WorkerController } from '../lifecycle/controller.js';
import type { Runtime } from '../lifecycle/runtime.js';
import type { CgroupManager } from '../os/cgroups/index.js';
import type { OrphanRecord, PidRegistry } from '../os/pid-registry.js';

export interface OrphanHost {
  readonly logger: Logger;
  readonly pids: PidRegistry;
  entry(worker: string): { readonly config: WorkerConfig; readonly controller: WorkerController; readonly runtime: Runtime } | undefined;
  cgroups(): CgroupManager | undefined;
}

/**
 * Adopts or kills each orphan; resolves when every adoption has been tried and the predecessor's
 * other cgroups (`predecessorCgroups`, from this state directory's journal) are swept.
 */
export async function resolveOrphans(host: OrphanHost, orphans: readonly OrphanRecord[], predecessorCgroups: readonly string[]): Promise<void> {
  const adopted = new Set<string>();
  const attempts: Promise<void>[] = [];
  for (const orphan of orphans) {
    const entry = host.entry(orphan.worker);
    const why = refusal(orphan, entry, adopted);
    if (why !== undefined || entry === undefined || entry.runtime.adopt === undefined) {
      kill(host, orphan, why ?? 'its runtime cannot adopt');
      continue;
    }
    adopted.add(orphan.worker);
    host.pids.adopt(orphan);
    const runtime = entry.runtime;
    attempts.push(
      entry.controller
        .adopt(() => (runtime.adopt as NonNullable<Runtime['adopt']>).call(runtime, orphan, { signal: new AbortController().signal, logger: host.logger.child({ worker: orphan.worker }), attempt: 0 }))
        .catch((err: unknown) => {
          host.logger.error({ err, worker: orphan.worker, pid: orphan.pid }, 'adoption failed; the process is killed');
          kill(host, orphan, 'adoption failed');
        }),
    );
  }
  await Promise.all(attempts);
  // The dead master's other groups (workers gone from the config, leftovers): emptied and removed.
  // Only its own: another dead master's groups may be waiting for their own master to adopt them.
  if (predecessorCgroups.length === 0) return;
  const kept = new Set(orphans.filter((o) => adopted.has(o.worker) && o.cgroup !== undefined).map((o) => o.cgroup));
  const theirs = new Set(predecessorCgroups);
  const report = await host
    .cgroups()
    ?.sweep(
      (group) => kept.has(group.name),
      (group) => theirs.has(group.name),
    )
    .catch((err: unknown) => void host.logger.warn({ err }, 'sweeping old cgroups failed'));
  if (report === undefined) return;
  const level = report.failed.length > 0 ? 'warn' : 'info';
  host.logger[level]({ removed: report.removed, spared: report.spared, failed: report.failed, recorded: predecessorCgroups }, "swept the previous master's cgroups");
}

function refusal(orphan: OrphanRecord, entry: ReturnType<OrphanHost['entry']>, adopted: ReadonlySet<string>): string | undefined {
  if (entry === undefined) return 'its worker is no longer configured';
  if (!adoptable(entry.config)) return 'its worker is not adoptable (on_master_restart: stop, or not a plain process worker)';
  if (orphan.hash !== configHash(entry.config)) return "its worker's config changed";
  if (adopted.has(orphan.worker) || entry.controller.state !== 'idle') return 'its worker runs already';
  return undefined;
}

function kill(host: OrphanHost, orphan: OrphanRecord, why: string): void {
  host.pids.kill(orphan);
  host.logger.warn({ worker: orphan.worker, pid: orphan.pid, reason: why }, 'killed a process left behind by a previous master');
  if (orphan.cgroup === undefined) return;
  const group = host.cgroups()?.open(orphan.cgroup);
  void group
    ?.kill()
    .then(() => group.remove())
    .catch((err: unknown) => host.logger.warn({ err, cgroup: orphan.cgroup }, 'could not empty an old cgroup'));
}
