/**
 * What the metrics know of each worker, kept from the master's events: state, pid, since when it
 * runs, restarts, crashes, health, the last exit. Events already say all of it (docs/lifecycle.md),
 * so a scrape reads this table instead of building every worker's diagnostics (~100 µs each).
 * Workers that existed before the table was attached are read once from their diagnostics.
 */
import { constants } from 'node:os';
import type { WorkerDiagnostics } from '../lifecycle/diagnostics.js';
import type { ExitView } from '../lifecycle/events.js';
import type { WorkerState } from '../lifecycle/states.js';
import type { Master } from '../master/master.js';
import { labelText } from './metrics/exposition.js';

export type HealthStatus = 'healthy' | 'unhealthy' | 'unknown';

export interface WorkerFacts {
  readonly id: string;
  readonly type: 'process' | 'module';
  /** The runtime kind: process | inline | thread | host (or a registered one). */
  readonly deployment: string;
  /** `worker_id="…",type="…",deployment="…"`, escaped once. */
  readonly labels: string;
  /**
   * Whether the running instance's module reports as a command worker: learnt from its first
   * diagnostics, forgotten when it starts again. An inline module found to be something else is
   * not asked again (diagnostics cost ~100 µs; a scrape of 800 plain modules would pay it every time).
   */
  moduleKind?: 'command' | 'other' | undefined;
  /** The state and health lines (one pair, value 0 and 1, per state, then per status), formatted at the first scrape. */
  setLines?: readonly (readonly [string, string])[];
  state: WorkerState;
  pid: number | null;
  /** Epoch ms of the transition into running; null when not running. */
  runningSince: number | null;
  /** Every restart (automatic and manual). */
  restarts: number;
  /** Instances that ended without being asked to. */
  crashes: number;
  health: HealthStatus;
  /** The exit code of the last instance; 128 + n for a signal, 1 for a module that failed, 0 for one that stopped. */
  lastExitCode: number | null;
}

export class WorkerFactsTable {
  private readonly facts = new Map<string, WorkerFacts>();
  private readonly offs: (() => void)[];

  constructor(private readonly master: Master) {
    for (const id of master.listWorkers()) this.seed(id);
    this.offs = [
      // Already there when it was seeded from its diagnostics (added just before the table was).
      master.on('added', (e) => void (this.facts.has(e.worker_id) || this.facts.set(e.worker_id, fresh(e.worker_id, e.type, e.runtime)))),
      master.on('removed', (e) => void this.facts.delete(e.worker_id)),
      master.on('state', (e) => {
        const f = this.get(e.worker_id);
        if (f === undefined) return;
        f.state = e.to;
        f.pid = e.to === 'running' || e.to === 'starting' || e.to === 'stopping' ? e.pid : null;
        f.runningSince = e.to === 'running' ? e.at : e.to === 'stopping' ? f.runningSince : null;
        if (e.to === 'starting') {
          f.health = 'unknown';
          f.moduleKind = undefined;
        }
      }),
      master.on('exit', (e) => {
        const f = this.get(e.worker_id);
        if (f === undefined) return;
        if (!e.exit.requested) f.crashes += 1;
        f.lastExitCode = exitCode(e.exit);
      }),
      master.on('restart', (e) => {
        const f = this.get(e.worker_id);
        if (f !== undefined) f.restarts += 1;
      }),
      master.on('health', (e) => {
        const f = this.get(e.worker_id);
        if (f !== undefined) f.health = e.status;
      }),
    ];
  }

  /** In the master's order (config order, then workers added later). */
  all(): IterableIterator<WorkerFacts> {
    return this.facts.values();
  }

  get size(): number {
    return this.facts.size;
  }

  close(): void {
    for (const off of this.offs.splice(0)) off();
    this.facts.clear();
  }

  /** The facts of `id`, read from its diagnostics if the events have not introduced it yet. */
  get(id: string): WorkerFacts | undefined {
    return this.facts.get(id) ?? this.seed(id);
  }

  /** A worker the events have not introduced (it predates the table): read its diagnostics once. */
  private seed(id: string): WorkerFacts | undefined {
    let d: WorkerDiagnostics;
    try {
      d = this.master.getWorkerStateWithDiagnostics(id);
    } catch {
      return undefined; // removed meanwhile
    }
    const f = fresh(id, d.type, d.runtime);
    f.state = d.state;
    f.pid = d.pid;
    f.runningSince = d.state === 'running' && d.started_at !== null ? Date.parse(d.started_at) : null;
    f.restarts = d.restart_count;
    f.health = d.health.status;
    f.lastExitCode = d.last_exit === null ? null : exitCode(d.last_exit);
    this.facts.set(id, f);
    return f;
  }
}

function fresh(id: string, type: 'process' | 'module', deployment: string): WorkerFacts {
  return { id, type, deployment, labels: labelText({ worker_id: id, type, deployment }), state: 'idle', pid: null, runningSince: null, restarts: 0, crashes: 0, health: 'unknown', lastExitCode: null };
}

/** One number for every way an instance ends, as a shell reports it. */
export function exitCode(exit: ExitView): number {
  if (exit.exit_code !== null) return exit.exit_code;
  if (exit.signal !== null) return 128 + (constants.signals[exit.signal as NodeJS.Signals] ?? 0);
  return exit.error === null ? 0 : 1;
}
