/**
 * A token bucket for republishing worker output into the master's log (like journald's
 * RateLimitBurst): a worker printing millions of lines must not turn the supervisor into a log
 * formatter. What is over budget is only counted; the per-worker log file still gets every byte.
 */
/** Tokens needed to resume after suppression began. */
const RESUME_AT = 200;

export class LineBudget {
  private tokens: number;
  private last = performance.now();
  /** Lines and bytes not republished since the last report. */
  suppressedLines = 0;
  suppressedBytes = 0;

  constructor(
    private readonly perSecond = 1000,
    private readonly burst = 2000,
  ) {
    this.tokens = burst;
  }

  /**
   * True when the caller should skip splitting the next chunk. Under a flood the bucket refills a
   * line per millisecond; waiting for a batch's worth keeps the splitting cost to once in a while.
   */
  exhausted(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.perSecond) / 1000);
    this.last = now;
    return this.tokens < (this.suppressedLines + this.suppressedBytes > 0 ? RESUME_AT : 1);
  }

  take(): boolean {
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    this.suppressedLines += 1;
    return false;
  }

  /** Returns and resets what was suppressed, or undefined when nothing was. */
  drainReport(): { lines: number; bytes: number } | undefined {
    if (this.suppressedLines === 0 && this.suppressedBytes === 0) return undefined;
    const report = { lines: this.suppressedLines, bytes: this.suppressedBytes };
    this.suppressedLines = 0;
    this.suppressedBytes = 0;
    return report;
  }
}
