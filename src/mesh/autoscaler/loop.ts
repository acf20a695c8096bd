/**
 * Drives an {@link Autoscaler} on a timer: sample, decide, apply, then wait `interval` again. Ticks
 * never overlap (a slow `apply`, such as starting a replica, delays the next sample), the one timer
 * is unref'd and `close()` clears it and waits for an apply in progress.
 */
import { hsuError } from '../../errors.js';
import type { AutoscaleSample, Autoscaler, ScaleDecision } from './autoscaler.js';

export interface AutoscaleLoopOptions {
  readonly autoscaler: Autoscaler;
  /** Milliseconds between samples. */
  readonly interval: number;
  readonly sample: () => AutoscaleSample | Promise<AutoscaleSample>;
  /** Carries out a decision other than `none` (start or stop replicas, replace one). */
  readonly apply: (decision: ScaleDecision) => void | Promise<void>;
  /** A failing sample or apply is reported here and the loop goes on. Default: a process warning. */
  readonly on_error?: (error: unknown) => void;
}

export class AutoscaleLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: AutoscaleLoopOptions) {
    if (!Number.isFinite(options.interval) || options.interval <= 0) {
      throw hsuError('CONFIG_INVALID', `autoscale loop interval must be a number of ms > 0, got ${String(options.interval)}`, { path: 'interval' });
    }
  }

  start(): void {
    if (this.closed) throw hsuError('MESH_CLOSED', 'the autoscale loop is closed');
    if (this.timer === undefined && this.running === undefined) this.schedule();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.tick().finally(() => {
        this.running = undefined;
        if (!this.closed) this.schedule();
      });
    }, this.options.interval);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      const decision = this.options.autoscaler.observe(await this.options.sample());
      if (decision.action !== 'none' && !this.closed) await this.options.apply(decision);
    } catch (error) {
      const report = this.options.on_error ?? ((e: unknown) => process.emitWarning(`autoscale loop: ${e instanceof Error ? e.message : String(e)}`, { code: 'HSU_MESH_AUTOSCALE' }));
      report(error);
    }
  }
}
