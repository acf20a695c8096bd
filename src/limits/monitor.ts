/**
 * Per-worker memory for the evaluator: the samples a CPU window needs, which limits are already
 * breached (so a breach is reported once when it starts, not every tick), reset when the process
 * changes (a restart is a new pid, and a new process starts with a clean record).
 */
import { evaluateLimits, strongestAction, type LimitSample, type Violation } from './evaluate.js';
import type { LimitKind, LimitPolicy, Limits } from './schema.js';

export interface LimitDecision {
  /** Breaches that started with this sample. */
  readonly violations: readonly Violation[];
  /** The action to take now: the strongest policy among the new breaches; undefined = nothing. */
  readonly action?: LimitPolicy;
  /** Every limit currently breached (diagnostics). */
  readonly active: readonly LimitKind[];
}

export class LimitsMonitor {
  private samples: LimitSample[] = [];
  private breached = new Set<LimitKind>();

  constructor(readonly limits: Limits) {}

  observe(sample: LimitSample): LimitDecision {
    if (this.samples[0] !== undefined && this.samples[0].pid !== sample.pid) this.reset();
    if (!sample.alive) {
      this.reset();
      return { violations: [], active: [] };
    }
    this.samples.push(sample);
    this.trim(sample.at_ms);
    const now = evaluateLimits(this.limits, this.samples);
    const fresh = now.filter((v) => !this.breached.has(v.limit));
    this.breached = new Set(now.map((v) => v.limit));
    const action = strongestAction(fresh);
    return { violations: fresh, active: [...this.breached], ...(action === undefined ? {} : { action }) };
  }

  reset(): void {
    this.samples = [];
    this.breached.clear();
  }

  /** Keeps one sample at or before the CPU window's start, nothing older. */
  private trim(now: number): void {
    const window = this.limits.cpu?.window ?? 0;
    while (this.samples.length > 2 && (this.samples[1]?.at_ms ?? now) <= now - window) this.samples.shift();
  }
}
