/**
 * Graceful, then forceful, with the outcome reported (execa's lib/terminate): the one place that
 * knows how an instance is brought down, for every runtime. A runtime says what "ask nicely" and
 * "end it now" mean for its kind (a signal to a process group, a stop message, module.stop(),
 * worker.terminate()); this module owns the grace timer, the escalation and what is reported.
 */
import type { StopCause, StopRequest } from '../lifecycle/runtime.js';

export interface TerminationTarget {
  /** Ask the instance to end. */
  graceful(signal: NodeJS.Signals): void;
  /** End it now. An in-process module cannot be killed: there, forcing means to stop waiting for it. */
  force(): void;
}

/** Why the instance was forced down, if it was. */
export type ForcedBy = 'request' | 'grace_expired';

export class Termination {
  private timer: NodeJS.Timeout | undefined;
  private gone = false;
  private requestedAt: number | undefined;
  private graceMs = 0;
  private cause: StopCause | undefined;
  private forcedBy: ForcedBy | undefined;

  constructor(
    private readonly target: TerminationTarget,
    ended: Promise<unknown>,
  ) {
    void ended.then(() => {
      this.gone = true;
      clearTimeout(this.timer);
      this.timer = undefined;
    });
  }

  /** A stop was asked for (by anyone): the end is not a crash. */
  get requested(): boolean {
    return this.requestedAt !== undefined && this.cause !== undefined;
  }

  get forced(): ForcedBy | undefined {
    return this.forcedBy;
  }

  get stopCause(): StopCause | undefined {
    return this.cause;
  }

  /** The grace period the (first) stop request gave. */
  get grace(): number {
    return this.graceMs;
  }

  /** Idempotent; a forced request escalates a graceful one under way. */
  request(request: StopRequest): void {
    if (this.gone) return;
    if (this.requestedAt === undefined) {
      this.begin(request.graceMs);
      this.cause = request.cause;
      if (request.force) this.forceNow('request');
      else {
        this.target.graceful(request.signal);
        this.arm(request.graceMs);
      }
      return;
    }
    this.cause ??= request.cause;
    if (request.force) this.forceNow('request');
  }

  /**
   * The instance is ending by itself (it reported a fatal error): give it the grace period, then
   * force it. Not a requested stop.
   */
  bound(graceMs: number): void {
    if (this.gone || this.requestedAt !== undefined) return;
    this.begin(graceMs);
    this.arm(graceMs);
  }

  private begin(graceMs: number): void {
    this.requestedAt = Date.now();
    this.graceMs = graceMs;
  }

  private arm(graceMs: number): void {
    this.timer = setTimeout(() => this.forceNow('grace_expired'), Math.max(0, graceMs));
  }

  private forceNow(by: ForcedBy): void {
    if (this.gone || this.forcedBy !== undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.forcedBy = by;
    this.target.force();
  }
}
