/**
 * One subscriber's bounded queue. A publisher only pushes (O(1), never waits); the mailbox delivers
 * in order, awaiting an async handler before the next item, so a slow subscriber holds back only
 * itself. A full queue drops the new item and counts it; a throwing handler is reported and the
 * next item is delivered as usual.
 */

export type Handler<T> = (item: T) => void | Promise<void>;
export type ErrorReporter = (error: unknown) => void;

export interface MailboxStats {
  readonly delivered: number;
  readonly dropped: number;
  readonly failed: number;
  readonly pending: number;
  readonly queue_limit: number;
}

/** Synchronous handlers are drained this many at a time before yielding to I/O. */
const SYNC_BATCH = 256;

export class Mailbox<T> {
  private readonly items: T[] = [];
  private head = 0;
  private draining = false;
  private closed = false;
  private immediate: NodeJS.Immediate | undefined;
  private delivered = 0;
  private dropped = 0;
  private failed = 0;

  constructor(
    private readonly handler: Handler<T>,
    private readonly limit: number,
    private readonly onError: ErrorReporter,
  ) {}

  /** Queues `item`; false when it was dropped (queue full or mailbox closed). */
  push(item: T): boolean {
    if (this.closed) return false;
    if (this.items.length - this.head >= this.limit) {
      this.dropped++;
      return false;
    }
    this.items.push(item);
    if (!this.draining) {
      this.draining = true;
      queueMicrotask(this.drain);
    }
    return true;
  }

  stats(): MailboxStats {
    return { delivered: this.delivered, dropped: this.dropped, failed: this.failed, pending: this.items.length - this.head, queue_limit: this.limit };
  }

  /** Drops what is pending; a delivery under way finishes, nothing after it starts. */
  close(): void {
    this.closed = true;
    this.items.length = 0;
    this.head = 0;
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.immediate = undefined;
  }

  private readonly drain = (): void => {
    this.immediate = undefined;
    let sync = 0;
    while (!this.closed && this.head < this.items.length) {
      const item = this.items[this.head] as T;
      this.items[this.head++] = undefined as T; // let the payload be collected
      if (this.head > 1024 && this.head * 2 > this.items.length) this.compact();
      let result: void | Promise<void>;
      try {
        result = this.handler(item);
      } catch (error) {
        this.fail(error);
        continue;
      }
      if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
        (result as Promise<void>).then(this.resumeOk, this.resumeFailed);
        return;
      }
      this.delivered++;
      if (++sync >= SYNC_BATCH && this.head < this.items.length) {
        this.immediate = setImmediate(this.drain);
        return;
      }
    }
    this.draining = false;
    if (this.closed) return;
    this.items.length = 0;
    this.head = 0;
  };

  private readonly resumeOk = (): void => {
    this.delivered++;
    this.drain();
  };

  private readonly resumeFailed = (error: unknown): void => {
    this.fail(error);
    this.drain();
  };

  private fail(error: unknown): void {
    this.failed++;
    try {
      this.onError(error);
    } catch {
      // the reporter itself must not stop delivery
    }
  }

  private compact(): void {
    this.items.splice(0, this.head);
    this.head = 0;
  }
}
