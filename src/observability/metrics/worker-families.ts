/**
 * The per-worker families of /metrics, labelled `worker_id`, `type` and `deployment`: state (one
 * sample per state, 1 for the current one), up, uptime, restarts, crashes, health, last exit
 * code; CPU seconds and resident memory of a worker's process; the V8 heap of thread and hosted
 * modules; the counters of command workers. Usage is read first, a couple of milliseconds of it
 * per event-loop turn; then every family is written.
 */
import { WORKER_STATES } from '../../lifecycle/states.js';
import type { Master } from '../../master/master.js';
import type { HeapFacts } from '../../protocol/messages.js';
import type { WorkerFacts, WorkerFactsTable } from '../worker-facts.js';
import { flat, linePrefix, withLabels, type Exposition } from './exposition.js';
import { readProcessUsage, type ProcessUsage } from './proc-usage.js';
import { commandWorkerReport, writeCommandWorkerFamilies, type CommandWorkerReport } from './command-workers.js';
import { learn } from './module-kinds.js';

const HEALTH = ['healthy', 'unhealthy', 'unknown'] as const;
const STATE_LABELS = WORKER_STATES.map((s) => `state="${s}"`);
const HEALTH_LABELS = HEALTH.map((s) => `status="${s}"`);

/** The worker's state and health lines, each with value 0 and with 1, made once per worker (1,000 workers write 11,000 such lines a scrape, none of them a new string). */
function setLines(f: WorkerFacts): readonly (readonly [string, string])[] {
  return (f.setLines ??= [
    ...STATE_LABELS.map((state) => linePrefix('hsu_worker_state', withLabels(f.labels, state))),
    ...HEALTH_LABELS.map((status) => linePrefix('hsu_worker_health', withLabels(f.labels, status))),
  ].map((prefix) => [flat(`${prefix}0\n`), flat(`${prefix}1\n`)] as const));
}

/** Milliseconds of reading (/proc, diagnostics at ~100 µs each) before usage gathering gives the event loop a turn. */
const TURN_BUDGET_MS = 2;

interface Usage {
  readonly process: ProcessUsage | undefined;
  readonly heap: HeapFacts | undefined;
  /** The module's command-worker report (hsu/messaging), when it is one. */
  readonly command: CommandWorkerReport | undefined;
}

/** Whether the worker has a process of its own (processes, hosted modules, unmanaged ones). */
function hasProcess(f: WorkerFacts): boolean {
  return f.pid !== null && f.deployment !== 'thread' && f.deployment !== 'inline';
}

function hasHeap(f: WorkerFacts): boolean {
  return f.state === 'running' && (f.deployment === 'thread' || f.deployment === 'host');
}

/** An inline module not yet known to be anything but a command worker. */
function mayBeCommandWorker(f: WorkerFacts): boolean {
  return f.state === 'running' && f.deployment === 'inline' && f.moduleKind !== 'other';
}

export async function gatherUsage(master: Master, facts: WorkerFactsTable): Promise<Map<string, Usage>> {
  const usage = new Map<string, Usage>();
  let turnStarted = performance.now();
  for (const f of [...facts.all()]) {
    const process = hasProcess(f) ? readProcessUsage(f.pid!) : undefined;
    const heapToo = hasHeap(f);
    const details = heapToo || mayBeCommandWorker(f) ? learn(master, f) : undefined;
    const heap = heapToo ? ((details?.heap ?? undefined) as HeapFacts | undefined) : undefined;
    const command = commandWorkerReport(details?.module_diagnostics);
    if (process !== undefined || heap !== undefined || command !== undefined) usage.set(f.id, { process, heap, command });
    if (performance.now() - turnStarted >= TURN_BUDGET_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      turnStarted = performance.now();
    }
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
    const lines = setLines(f);
    for (let i = 0; i < WORKER_STATES.length; i++) out.raw(lines[i]![WORKER_STATES[i] === f.state ? 1 : 0]);
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
    const lines = setLines(f);
    for (let i = 0; i < HEALTH.length; i++) out.raw(lines[WORKER_STATES.length + i]![f.health === HEALTH[i] ? 1 : 0]);
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
  await out.breathe();
  writeCommandWorkerFamilies(out, withUsage.flatMap((f) => {
    const command = usage.get(f.id)?.command;
    return command === undefined ? [] : [[f, command] as const];
  }));
}
