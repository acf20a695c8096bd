/** A command worker's periodic work: one run at a time, every `interval` ms, failures counted and logged. */
import { serializeError } from '../../errors.js';
import type { ModuleLogger } from '../../worker/contract.js';
import type { PeriodicWork } from './options.js';

export class PeriodicRunner<S> {
  private fn: PeriodicWork<S> | undefined;
  private interval = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private context: { state: S; logger: ModuleLogger } | undefined;
  private runs = 0;
  private failures = 0;
  private lastError: { code: string; message: string; at: string } | null = null;

  set(fn: PeriodicWork<S>, interval: number): void {
    this.fn = fn;
    this.interval = interval;
  }

  start(context: { state: S; logger: ModuleLogger }): void {
    if (this.fn === undefined) return;
    this.context = context;
    this.abort = new AbortController();
    this.schedule();
  }

  /** Clears the timer, aborts a run in progress and waits for it (at most `graceMs`). */
  async stop(graceMs: number): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.abort?.abort();
    const running = this.running;
    if (running === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([running, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
  }

  diagnostics(): Record<string, unknown> | null {
    if (this.fn === undefined) return null;
    return { interval_ms: this.interval, runs: this.runs, failures: this.failures, last_error: this.lastError, running: this.running !== undefined };
  }

  private schedule(): void {
    if (this.abort?.signal.aborted !== false) return;
    this.timer = setTimeout(this.tick, this.interval);
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    const fn = this.fn;
    const context = this.context;
    const signal = this.abort?.signal;
    if (fn === undefined || context === undefined || signal === undefined) return;
    this.running = (async () => {
      try {
        await fn({ signal, state: context.state, logger: context.logger });
        this.runs++;
      } catch (err) {
        this.failures++;
        const s = serializeError(err);
        this.lastError = { code: s.code, message: s.message, at: new Date().toISOString() };
        context.logger.warn({ err }, 'periodic work failed');
      }
    })().finally(() => {
      this.running = undefined;
      this.schedule();
    });
  };
}
