/**
 * The per-worker families of /metrics, labelled `worker_id`, `type` and `deployment`: state (one
 * sample per state, 1 for the current one), up, uptime, restarts, crashes, health, last exit
 * code; CPU seconds and resident memory of a worker's process; the V8 heap of thread and hosted
 * modules. Usage is read first, a chunk per event-loop turn; then every family is written.
 */
import { WORKER_STATES } from '../../lifecycle/states.js';
import type { Master } from '../../master/master.js';
import type { HeapFacts } from '../../protocol/messages.js';
import type { WorkerFacts, WorkerFactsTable } from '../worker-facts.js';
import { withLabels, type Exposition } from './exposition.js';
import { readProcessUsage, type ProcessUsage } from './proc-usage.js';

const HEALTH = ['healthy', 'unhealthy', 'unknown'] as const;
const STATE_LABELS = WORKER_STATES.map((s) => `state="${s}"`);
/** /proc reads or diagnostics per event-loop turn while usage is gathered. */
const READS_PER_TURN = 64;

interface Usage {
  readonly process: ProcessUsage | undefined;
  readonly heap: HeapFacts | undefined;
}

/** Whether the worker has a process of its own (processes, hosted modules, unmanaged ones). */
function hasProcess(f: WorkerFacts): boolean {
  return f.pid !== null && f.deployment !== 'thread' && f.deployment !== 'inline';
}

function hasHeap(f: WorkerFacts): boolean {
  return f.state === 'running' && (f.deployment === 'thread' || f.deployment === 'host');
}

export async function gatherUsage(master: Master, facts: WorkerFactsTable): Promise<Map<string, Usage>> {
  const usage = new Map<string, Usage>();
  let reads = 0;
  for (const f of [...facts.all()]) {
    const process = hasProcess(f) ? readProcessUsage(f.pid!) : undefined;
    let heap: HeapFacts | undefined;
    if (hasHeap(f)) {
      try {
        heap = (master.getWorkerStateWithDiagnostics(f.id).details.heap ?? undefined) as HeapFacts | undefined;
      } catch {
        heap = undefined; // removed meanwhile
      }
    }
    if (process !== undefined || heap !== undefined) usage.set(f.id, { process, heap });
    if (++reads % READS_PER_TURN === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return usage;
}

export async function writeWorkerFamilies(out: Exposition, workers: readonly WorkerFacts[], usage: ReadonlyMap<string, Usage>, now: number): Promise<void> {
  const each = async (name: string, type: 'gauge' | 'counter', help: string, write: (f: WorkerFacts) => void): Promise<void> => {
    out.family(name, type, help);
    for (const f of workers) {
      write(f);
      await out.breathe();
    }
  };
  await each('hsu_worker_state', 'gauge', 'The worker state: 1 for the current one, 0 for the others.', (f) => {
    for (let i = 0; i < WORKER_STATES.length; i++) out.sample('hsu_worker_state', withLabels(f.labels, STATE_LABELS[i]!), WORKER_STATES[i] === f.state ? 1 : 0);
  });
  await each('hsu_worker_up', 'gauge', '1 while the worker is running, else 0.', (f) => out.sample('hsu_worker_up', f.labels, f.state === 'running' ? 1 : 0));
  await each('hsu_worker_uptime_seconds', 'gauge', 'Seconds since the running instance started; 0 when not running.', (f) =>
    out.sample('hsu_worker_uptime_seconds', f.labels, f.runningSince === null ? 0 : Math.max(0, now - f.runningSince) / 1000),
  );
  await each('hsu_worker_restarts_total', 'counter', 'Restarts of the worker, automatic (by its restart policy or a watchdog) and manual.', (f) => out.sample('hsu_worker_restarts_total', f.labels, f.restarts));
  await each('hsu_worker_crashes_total', 'counter', 'Instances that ended without being asked to (a crash, a fatal error, a failed health check or limit).', (f) =>
    out.sample('hsu_worker_crashes_total', f.labels, f.crashes),
  );
  await each('hsu_worker_health', 'gauge', 'The health status: 1 for the current one, 0 for the others.', (f) => {
    for (const status of HEALTH) out.sample('hsu_worker_health', withLabels(f.labels, `status="${status}"`), f.health === status ? 1 : 0);
  });
  await each('hsu_worker_last_exit_code', 'gauge', 'Exit code of the last instance (128 + n for signal n; modules: 1 failed, 0 stopped); absent before the first exit.', (f) => {
    if (f.lastExitCode !== null) out.sample('hsu_worker_last_exit_code', f.labels, f.lastExitCode);
  });
  const withUsage = workers.filter((f) => usage.has(f.id));
  const processes = withUsage.filter((f) => usage.get(f.id)?.process !== undefined);
  out.family('hsu_worker_cpu_seconds_total', 'counter', "CPU time of the worker's process (user + system, with the children it waited for).");
  for (const f of processes) out.sample('hsu_worker_cpu_seconds_total', f.labels, usage.get(f.id)!.process!.cpu_seconds);
  await out.breathe();
  out.family('hsu_worker_resident_memory_bytes', 'gauge', "Resident memory of the worker's process.");
  for (const f of processes) out.sample('hsu_worker_resident_memory_bytes', f.labels, usage.get(f.id)!.process!.rss_bytes);
  await out.breathe();
  const heaps = withUsage.filter((f) => usage.get(f.id)?.heap !== undefined);
  out.family('hsu_worker_heap_used_bytes', 'gauge', 'V8 heap in use by a thread or hosted module (as of its previous report).');
  for (const f of heaps) out.sample('hsu_worker_heap_used_bytes', f.labels, usage.get(f.id)!.heap!.used_bytes);
  out.family('hsu_worker_heap_total_bytes', 'gauge', 'V8 heap allocated by a thread or hosted module (as of its previous report).');
  for (const f of heaps) out.sample('hsu_worker_heap_total_bytes', f.labels, usage.get(f.id)!.heap!.total_bytes);
}
