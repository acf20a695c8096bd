/**
 * Restart decisions, shared by every worker type. Pure logic with injectable clock and randomness
 * so the policy can be tested exactly; the controller owns the timers.
 *
 * Defaults follow OTP and systemd: the first restart after a stable run is immediate (OTP restarts
 * at once), repeated failures back off exponentially with jitter up to a cap, and more than
 * `maxRestarts` restarts within `windowMs` give up (systemd's StartLimitBurst/IntervalSec).
 */
import type { ExitInfo } from './runtime.js';

export type RestartMode = 'always' | 'on-failure' | 'never';

export interface RestartPolicy {
  readonly policy: RestartMode;
  readonly backoff: { readonly initial: number; readonly max: number; readonly multiplier: number; readonly jitter: number };
  readonly intensity: { readonly max_restarts: number; readonly window: number };
  /** A run at least this long (ms) counts as stable and resets the backoff. */
  readonly reset_after: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  policy: 'on-failure',
  backoff: { initial: 100, max: 30_000, multiplier: 2, jitter: 0.2 },
  intensity: { max_restarts: 5, window: 60_000 },
  reset_after: 30_000,
};

export type RestartDecision =
  | { readonly action: 'restart'; readonly delayMs: number; readonly attempt: number }
  | { readonly action: 'none'; readonly reason: string }
  | { readonly action: 'give_up'; readonly reason: string };

export function isFailure(exit: ExitInfo): boolean {
  return exit.error !== undefined || (exit.exitCode !== null && exit.exitCode !== 0) || exit.signal !== null;
}

export class RestartTracker {
  /** Timestamps of recent automatic restarts, for the intensity window. */
  private readonly restarts: number[] = [];
  /** Restarts since the last stable run; drives the backoff exponent. */
  private consecutive = 0;

  constructor(
    private readonly policy: RestartPolicy,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  get restartCount(): number {
    return this.consecutive;
  }

  /** Decide what to do after an instance ended on its own, having run for `ranForMs`. */
  decide(exit: ExitInfo, ranForMs: number): RestartDecision {
    if (exit.requested) return { action: 'none', reason: 'stopped on request' };
    const failed = isFailure(exit);
    if (this.policy.policy === 'never') {
      return failed ? { action: 'give_up', reason: 'restart policy is never' } : { action: 'none', reason: 'exited cleanly' };
    }
    if (this.policy.policy === 'on-failure' && !failed) return { action: 'none', reason: 'exited cleanly' };

    if (ranForMs >= this.policy.reset_after) this.consecutive = 0;
    const now = this.now();
    const windowStart = now - this.policy.intensity.window;
    while (this.restarts.length > 0 && (this.restarts[0] ?? 0) < windowStart) this.restarts.shift();
    if (this.restarts.length >= this.policy.intensity.max_restarts) {
      return {
        action: 'give_up',
        reason: `more than ${this.policy.intensity.max_restarts} restarts within ${this.policy.intensity.window} ms`,
      };
    }
    const delayMs = this.delayFor(this.consecutive);
    this.consecutive += 1;
    this.restarts.push(now);
    return { action: 'restart', delayMs, attempt: this.consecutive };
  }

  /** A manual start forgets the past: the operator has taken responsibility. */
  reset(): void {
    this.consecutive = 0;
    this.restarts.length = 0;
  }

  private delayFor(consecutive: number): number {
    if (consecutive === 0) return 0;
    const { initial, max, multiplier, jitter } = this.policy.backoff;
    const base = Math.min(max, initial * multiplier ** (consecutive - 1));
    const spread = base * jitter * (this.random() * 2 - 1);
    return Math.max(0, Math.min(max, Math.round(base + spread)));
  }
}
