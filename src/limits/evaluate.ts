/**
 * The pure part of limit enforcement: given a worker's samples over time and its limits, which
 * limits are exceeded, by how much, and what the policy says to do. No timers, no I/O: the
 * watchdog that runs it is a loop of sample -> observe -> act (see docs/os.md).
 *
 * Memory and open files are judged on the latest sample, so a breach is acted on at the first
 * tick that sees it. CPU is judged on the average over `window`, only once the samples span the
 * whole window (a start-up burst is not a breach), and then on every tick: a sustained breach is
 * acted on at the first tick after the window average crosses the limit.
 */
import type { LimitKind, LimitPolicy, Limits } from './schema.js';

/** The fields of a sample the evaluator reads (ResourceSample from src/os fits). */
export interface LimitSample {
  readonly pid: number;
  readonly alive: boolean;
  readonly at_ms: number;
  readonly rss_bytes: number;
  readonly cpu_time_usec: number;
  readonly open_fds: number;
}

export interface Violation {
  readonly limit: LimitKind;
  readonly action: LimitPolicy;
  readonly limit_value: number;
  readonly observed: number;
  readonly unit: 'bytes' | 'percent' | 'descriptors';
  readonly reason: string;
  readonly at_ms: number;
}

/** A window counts as covered within 2 % (sampling ticks drift by a few ms). */
const WINDOW_COVERAGE = 0.98;

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

/** CPU percent of one core over the last `windowMs`, or undefined while the samples span less. */
export function cpuOverWindow(samples: readonly LimitSample[], windowMs: number): number | undefined {
  const last = samples.at(-1);
  if (last === undefined) return undefined;
  for (let i = samples.length - 2; i >= 0; i--) {
    const base = samples[i] as LimitSample;
    const span = last.at_ms - base.at_ms;
    if (span >= windowMs * WINDOW_COVERAGE) return ((last.cpu_time_usec - base.cpu_time_usec) / (span * 1000)) * 100;
  }
  return undefined;
}

/** Violations in the latest of `samples` (oldest first, all of one process). */
export function evaluateLimits(limits: Limits, samples: readonly LimitSample[]): Violation[] {
  const last = samples.at(-1);
  if (last === undefined || !last.alive) return [];
  const out: Violation[] = [];
  const { memory, cpu, open_files: files } = limits;
  if (memory !== undefined && last.rss_bytes > memory.max_rss) {
    out.push({ limit: 'memory', action: memory.policy, limit_value: memory.max_rss, observed: last.rss_bytes, unit: 'bytes', at_ms: last.at_ms, reason: `RSS ${mb(last.rss_bytes)} is over max_rss ${mb(memory.max_rss)}` });
  }
  if (cpu !== undefined) {
    const percent = cpuOverWindow(samples, cpu.window);
    if (percent !== undefined && percent > cpu.max_percent) {
      out.push({ limit: 'cpu', action: cpu.policy, limit_value: cpu.max_percent, observed: percent, unit: 'percent', at_ms: last.at_ms, reason: `CPU ${percent.toFixed(1)}% of one core over ${cpu.window / 1000} s is over max_percent ${cpu.max_percent}` });
    }
  }
  if (files !== undefined && last.open_fds > files.max) {
    out.push({ limit: 'open_files', action: files.policy, limit_value: files.max, observed: last.open_fds, unit: 'descriptors', at_ms: last.at_ms, reason: `${last.open_fds} open descriptors is over max ${files.max}` });
  }
  return out;
}

/** Stronger actions win when several limits are exceeded at once. */
const STRENGTH: Readonly<Record<LimitPolicy, number>> = { log: 0, restart: 1, graceful_shutdown: 2, immediate_kill: 3 };

export function strongestAction(violations: readonly Violation[]): LimitPolicy | undefined {
  let best: LimitPolicy | undefined;
  for (const v of violations) if (best === undefined || STRENGTH[v.action] > STRENGTH[best]) best = v.action;
  return best;
}
