/** What a command worker counts, and the delivery it has in hand: the source of its diagnostics. */

export interface LastError {
  readonly code: string;
  readonly message: string;
  readonly message_id: number;
  readonly name: string;
  /** The delivery that failed (1 for the first); 0 when the message was buried without one. */
  readonly delivery: number;
  readonly at: string;
}

export class WorkerStats {
  processed = 0;
  retried = 0;
  /** Failed deliveries (each attempt counts). */
  failed = 0;
  deadLettered = 0;
  /** Records of commands this worker has no handler for (passed over, by design). */
  ignored = 0;
  undecodable = 0;
  poison = 0;
  redriven = 0;
  redriveFailed = 0;
  /** Highest id this worker has seen in the log. */
  head = 0;
  lastError: LastError | null = null;
  // The delivery in hand, as plain fields: set and cleared for every message at full speed.
  private currentId = 0;
  private currentName = '';
  private currentDelivery = 0;

  begin(id: number, name: string, delivery: number): void {
    this.currentId = id;
    this.currentName = name;
    this.currentDelivery = delivery;
  }

  end(): void {
    this.currentId = 0;
  }

  /** `runningMs`: how long an asynchronous handler has been pending (a synchronous one is never seen running). */
  inProgress(runningMs: number): Record<string, unknown> | null {
    if (this.currentId === 0) return null;
    return { message_id: this.currentId, name: this.currentName, delivery: this.currentDelivery, running_ms: Math.round(runningMs) };
  }

  counts(): Record<string, number> {
    return {
      processed: this.processed,
      retried: this.retried,
      failed: this.failed,
      dead_lettered: this.deadLettered,
      ignored: this.ignored,
      undecodable: this.undecodable,
      poison: this.poison,
      redriven: this.redriven,
      redrive_failed: this.redriveFailed,
    };
  }
}
