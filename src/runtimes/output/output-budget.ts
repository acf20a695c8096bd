/**
 * Token buckets for copying worker output into the master's log (like journald's RateLimitBurst):
 * one for lines, one for bytes, both per worker. A worker printing millions of lines, or megabytes
 * without a newline, must not turn the supervisor into a log formatter. What is over budget is
 * only counted; the worker's own log file still gets every byte.
 */

export interface BudgetSettings {
  readonly linesPerSecond: number;
  readonly lineBurst: number;
  readonly bytesPerSecond: number;
  readonly byteBurst: number;
}

export const DEFAULT_BUDGET: BudgetSettings = { linesPerSecond: 1000, lineBurst: 2000, bytesPerSecond: 1024 * 1024, byteBurst: 2 * 1024 * 1024 };

/** Lines' worth of tokens needed to resume after suppression began: resuming for one line at a time would split every chunk. */
const RESUME_LINES = 200;

export class OutputBudget {
  private lines: number;
  private bytes: number;
  private last = performance.now();

  constructor(private readonly settings: BudgetSettings = DEFAULT_BUDGET) {
    this.lines = settings.lineBurst;
    this.bytes = settings.byteBurst;
  }

  /** May this line (of `bytes` bytes) be copied? Takes its tokens when it may. */
  take(bytes: number): boolean {
    this.refill();
    if (this.lines < 1 || this.bytes < bytes) return false;
    this.lines -= 1;
    this.bytes -= bytes;
    return true;
  }

  /** Nothing can be copied now: skip splitting the next chunk. */
  exhausted(): boolean {
    this.refill();
    return this.lines < 1 || this.bytes < 1;
  }

  /** Enough has refilled to resume copying after a stretch of suppression. */
  canResume(): boolean {
    this.refill();
    return this.lines >= RESUME_LINES && this.bytes >= RESUME_LINES * 128;
  }

  private refill(): void {
    const now = performance.now();
    const seconds = (now - this.last) / 1000;
    this.last = now;
    const s = this.settings;
    this.lines = Math.min(s.lineBurst, this.lines + seconds * s.linesPerSecond);
    this.bytes = Math.min(s.byteBurst, this.bytes + seconds * s.bytesPerSecond);
  }
}
