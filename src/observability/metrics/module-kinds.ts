/**
 * Learns which inline modules are command workers when they start, off the scrape: each one's
 * diagnostics are read once (~100 µs), a couple of milliseconds' worth per event-loop turn. Left
 * to the first scrape, a master of 800 inline modules paid all of them at once (0.5 s, and the
 * garbage of 800 diagnostics collected inside it). A module the scrape reaches before this does
 * is asked by the scrape instead.
 */
import type { Master } from '../../master/master.js';
import type { WorkerFacts } from '../worker-facts.js';
import { commandWorkerReport } from './command-workers.js';

const TURN_BUDGET_MS = 2;

export class ModuleKinds {
  private readonly queue = new Set<string>();
  private immediate: NodeJS.Immediate | undefined;
  private readonly off: () => void;

  constructor(
    private readonly master: Master,
    private readonly facts: (id: string) => WorkerFacts | undefined,
  ) {
    this.off = master.on('state', (e) => {
      if (e.to !== 'running' || this.facts(e.worker_id)?.deployment !== 'inline') return;
      this.queue.add(e.worker_id);
      this.immediate ??= setImmediate(() => this.drain());
    });
  }

  close(): void {
    this.off();
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.immediate = undefined;
    this.queue.clear();
  }

  private drain(): void {
    this.immediate = undefined;
    const started = performance.now();
    for (const id of this.queue) {
      this.queue.delete(id);
      const f = this.facts(id);
      if (f !== undefined && f.state === 'running' && f.moduleKind === undefined) learn(this.master, f);
      if (performance.now() - started >= TURN_BUDGET_MS) break;
    }
    if (this.queue.size > 0) this.immediate = setImmediate(() => this.drain());
  }
}

/** Reads the worker's diagnostics and notes whether it is a command worker; the details, or undefined when it is gone. */
export function learn(master: Master, f: WorkerFacts): Record<string, unknown> | undefined {
  let details: Record<string, unknown>;
  try {
    details = master.getWorkerStateWithDiagnostics(f.id).details as Record<string, unknown>;
  } catch {
    return undefined; // removed meanwhile
  }
  const moduleDiagnostics = details.module_diagnostics;
  // Inline diagnostics are the module's answer now; a remote module's are null until its first facts answer (no verdict from that).
  if (f.deployment === 'inline' || moduleDiagnostics !== null) f.moduleKind = commandWorkerReport(moduleDiagnostics) === undefined ? 'other' : 'command';
  return details;
}
