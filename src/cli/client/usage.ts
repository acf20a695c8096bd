/**
 * What `hsu ls` and `hsu status` show as a worker's CPU and memory. Processes are sampled by the
 * resource watchdog (`watchdogs.resources`: one /proc pass for all); a module in a thread or its own
 * process reports its V8 heap with its facts (`details.heap`); an inline module shares the master's
 * process, so it has no figure of its own.
 */
import type { WorkerDiagnostics } from '../../lifecycle/diagnostics.js';
import { bytes } from './render.js';

export interface UsageFigures {
  cpu_percent: number | null;
  /** RSS for a process worker, heap used for a module with an isolate of its own. */
  memory_bytes: number | null;
  memory_kind: 'rss' | 'heap' | null;
}

type Summary = Pick<WorkerDiagnostics, 'details' | 'watchdogs'>;

export function usageOf(w: Summary): UsageFigures {
  const sampled = w.watchdogs['resources'] as { rss_bytes?: number | null; cpu_percent?: number | null } | undefined;
  if (sampled !== undefined && (sampled.rss_bytes ?? null) !== null) {
    return { cpu_percent: sampled.cpu_percent ?? null, memory_bytes: sampled.rss_bytes ?? null, memory_kind: 'rss' };
  }
  const heap = w.details['heap'] as { used_bytes?: number } | null | undefined;
  if (heap?.used_bytes !== undefined) return { cpu_percent: null, memory_bytes: heap.used_bytes, memory_kind: 'heap' };
  return { cpu_percent: null, memory_bytes: null, memory_kind: null };
}

/** Heap figures are marked, so that nobody compares a module's heap with a process's RSS. */
export function memoryText(usage: UsageFigures): string {
  return usage.memory_kind === 'heap' ? `${bytes(usage.memory_bytes)} heap` : bytes(usage.memory_bytes);
}
